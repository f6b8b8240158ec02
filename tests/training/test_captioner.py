"""The shipped shapes captioner: it loads through the standard transformers classes, fits in
10 MB, and describes scenes it was never trained on."""

import pytest
from transformers import AutoImageProcessor, AutoTokenizer, PreTrainedTokenizerBase, VisionEncoderDecoderModel

from training.captioner.evaluate import SHIPPED, caption_images, held_out_pairs, score


@pytest.fixture(scope="module")
def loaded() -> tuple[VisionEncoderDecoderModel, object, PreTrainedTokenizerBase]:
    model = VisionEncoderDecoderModel.from_pretrained(SHIPPED, local_files_only=True).eval()
    return model, AutoImageProcessor.from_pretrained(SHIPPED), AutoTokenizer.from_pretrained(SHIPPED)


def test_the_shipped_folder_is_under_10_mb_in_safetensors() -> None:
    files = [path for path in SHIPPED.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) < 10 * 2**20
    assert {path.name for path in files} >= {
        "model.safetensors",
        "config.json",
        "preprocessor_config.json",
        "README.md",
    }
    assert not list(SHIPPED.glob("*.bin"))


def test_it_captions_held_out_scenes_right(
    loaded: tuple[VisionEncoderDecoderModel, object, PreTrainedTokenizerBase],
) -> None:
    pairs = held_out_pairs(20, seed=3)
    assert all(scene.held_out for scene, _ in pairs)  # captions the training never saw
    captions = caption_images(*loaded, [image for _, image in pairs])
    result = score([scene for scene, _ in pairs], captions)
    assert result.overall >= 0.9, list(zip([scene.caption for scene, _ in pairs], captions, strict=True))


def test_the_tokenizer_writes_one_token_per_caption_word(
    loaded: tuple[VisionEncoderDecoderModel, object, PreTrainedTokenizerBase],
) -> None:
    tokenizer = loaded[2]
    caption = "two small green triangles on a white background"
    ids = tokenizer(caption).input_ids
    assert len(ids) == len(caption.split()) + 1 and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == caption
