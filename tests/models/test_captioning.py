"""Captioners read through the production loader: the shipped `shapes-captioner` on rendered
scenes, and tiny BLIP and GIT models with random weights saved as a `folder` source would hold them."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from transformers import (
    BertTokenizer,
    BlipConfig,
    BlipForConditionalGeneration,
    BlipImageProcessor,
    BlipProcessor,
    CLIPImageProcessor,
    GitConfig,
    GitForCausalLM,
    GitProcessor,
)

from broker.startup import StartupError
from models.builtins import SHIPPED_CAPTIONERS
from models.captioning import MAX_CHARS, Captioner, CaptionerError
from models.catalog import CaptionerEntry, load_catalog
from training.captioner.parts import parse, truth
from training.shapes.scenes import Scene, render
from worker.captioners import Captioners

CPU = torch.device("cpu")
SCENE = Scene(shape="square", colour="white", count=1, size="large", background="black", position="top right")
"""A held-out caption: the captioner never trained on it."""
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "red", "circle", "on", "blue", "picture", "of"]
VISION = {
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "image_size": 32,
    "patch_size": 8,
}
LAYERS = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    # Two torch threads on two shared cores make each token several times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def shipped() -> Captioner:
    return Captioner.load(load_catalog().captioner("shapes-captioner"), device=CPU, dtype=torch.float32)


def _entry(path: Path, **fields: object) -> CaptionerEntry:
    return CaptionerEntry.model_validate(
        {"name": "tiny", "source": {"kind": "folder", "path": path}, **fields}
    )


def _tokenizer() -> BertTokenizer:
    return BertTokenizer(vocab={word: i for i, word in enumerate(WORDS)})


def _ids(tokenizer: BertTokenizer) -> dict[str, int]:
    return {
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


def save_tiny_blip(folder: Path) -> Path:
    tokenizer = _tokenizer()
    text = {**LAYERS, "vocab_size": len(tokenizer), "max_position_embeddings": 128, **_ids(tokenizer)}
    config = BlipConfig(text_config={**text, "sep_token_id": tokenizer.sep_token_id}, vision_config=VISION)
    BlipForConditionalGeneration(config).save_pretrained(folder)
    images = BlipImageProcessor(size={"height": 32, "width": 32})
    BlipProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def save_tiny_git(folder: Path) -> Path:
    tokenizer = _tokenizer()
    config = GitConfig(
        vision_config=VISION,
        vocab_size=len(tokenizer),
        max_position_embeddings=128,
        **LAYERS,
        **_ids(tokenizer),
    )
    GitForCausalLM(config).save_pretrained(folder)
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    GitProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def test_the_shipped_captioner_describes_a_scene_it_never_saw(shipped: Captioner) -> None:
    image = render(SCENE)
    before = torch.get_rng_state()
    captions = shipped.describe(image, 4, seed=0)
    assert len(captions) == 4
    assert len({caption.lower() for caption in captions}) == 4
    said, expected = parse(captions[0]), truth(SCENE)  # the greedy caption, as the evaluation reads it
    assert (said.colour, said.shape, said.count, said.background) == (
        expected.colour,
        expected.shape,
        expected.count,
        expected.background,
    )
    assert all(caption == " ".join(caption.split()) and len(caption) <= MAX_CHARS for caption in captions)
    assert torch.equal(torch.get_rng_state(), before)  # its sampling leaves the process's seed alone


def test_the_same_seed_gives_the_same_captions(shipped: Captioner) -> None:
    image = render(SCENE)
    first = shipped.describe(image, 4, seed=7)
    assert shipped.describe(image, 4, seed=7) == first
    other = shipped.describe(image, 4, seed=8)
    assert other[0] == first[0]  # the greedy one
    assert other != first
    assert shipped.describe(image, 1, seed=7) == first[:1]


@pytest.mark.parametrize("save", [save_tiny_blip, save_tiny_git], ids=["blip", "git"])
def test_a_transformers_captioner_in_a_folder(tmp_path: Path, save: Callable[[Path], Path]) -> None:
    torch.manual_seed(0)
    captioner = Captioner.load(_entry(save(tmp_path / "model")), device=CPU, dtype=torch.float32)
    image = render(SCENE, side=48)
    captions = captioner.describe(image, 4, seed=0)
    assert len({caption.lower() for caption in captions}) == len(captions) == 4
    assert captioner.describe(image, 4, seed=0) == captions
    prompted = Captioner.load(
        _entry(tmp_path / "model", prompt="a picture of"), device=CPU, dtype=torch.float32
    )
    assert all(caption.startswith("a picture of") for caption in prompted.describe(image, 2, seed=0))


def test_a_folder_without_weights_is_refused_naming_the_captioner(tmp_path: Path) -> None:
    shutil.copytree(SHIPPED_CAPTIONERS["shapes-captioner"], tmp_path, dirs_exist_ok=True)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(CaptionerError, match=r"^captioner `tiny` cannot be loaded from "):
        Captioner.load(_entry(tmp_path), device=CPU, dtype=torch.float32)
    with pytest.raises(CaptionerError, match=r"^captioner `tiny`: there is no config.json in "):
        Captioner.load(_entry(tmp_path / "elsewhere"), device=CPU, dtype=torch.float32)


def test_a_prompt_needs_a_model_with_a_processor() -> None:
    entry = _entry(SHIPPED_CAPTIONERS["shapes-captioner"], prompt="a picture of")
    with pytest.raises(CaptionerError, match="has a `prompt`, but its model has no processor"):
        Captioner.load(entry, device=CPU, dtype=torch.float32)


def test_the_worker_loads_each_captioner_once(tmp_path: Path) -> None:
    captioners = Captioners()
    catalog = load_catalog()
    assert captioners.get(catalog, None, CPU, "auto") is None
    first = captioners.get(catalog, "shapes-captioner", CPU, "auto")
    assert first is not None and first.model.dtype == torch.float32
    assert captioners.get(catalog, "shapes-captioner", CPU, "auto") is first
    broken = catalog.model_copy(update={"captioners": (_entry(tmp_path),)})
    with pytest.raises(StartupError, match=r"^captioner `tiny` cannot be loaded: "):
        Captioners().get(broken, "tiny", CPU, "auto")
