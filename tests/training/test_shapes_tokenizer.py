"""The shapes model's tokenizer: one token per caption word, and any other text still readable."""

import itertools
from pathlib import Path

import pytest
from transformers import CLIPTokenizer

from models.builtins import SHIPPED
from training.shapes.scenes import scenes
from training.shapes.tokenizer import PROMPT_TOKENS, caption_tokenizer


@pytest.fixture(scope="module")
def tokenizer() -> CLIPTokenizer:
    return caption_tokenizer()


def test_every_caption_word_is_one_token(tokenizer: CLIPTokenizer) -> None:
    captions = {scene.caption for scene in itertools.islice(scenes(5), 2000)}
    for caption in captions:
        assert tokenizer.tokenize(caption) == [f"{word}</w>" for word in caption.split()]
    assert tokenizer.tokenize("A RED Circle") == ["a</w>", "red</w>", "circle</w>"]


def test_text_outside_the_captions_is_spelled_out_not_lost(tokenizer: CLIPTokenizer) -> None:
    ids = tokenizer("a zebra, café ✨").input_ids
    assert tokenizer.unk_token_id not in ids[1:-1]  # CLIP's unknown token is its end of text
    assert tokenizer.decode(ids, skip_special_tokens=True).replace(" ", "") == "azebra,café✨"


def test_every_caption_fits_the_window_and_longer_prompts_are_cut(tokenizer: CLIPTokenizer) -> None:
    longest = max((scene.caption for scene in itertools.islice(scenes(5), 5000)), key=len)
    assert len(tokenizer(longest).input_ids) <= PROMPT_TOKENS
    cut = tokenizer(" ".join(["a red circle"] * 10), truncation=True).input_ids
    assert len(cut) == PROMPT_TOKENS and cut[-1] == tokenizer.eos_token_id


def test_the_vocabulary_is_learned_the_same_way_every_time(tokenizer: CLIPTokenizer) -> None:
    assert caption_tokenizer().get_vocab() == tokenizer.get_vocab()


def test_the_shipped_model_reads_prompts_with_this_tokenizer(tokenizer: CLIPTokenizer) -> None:
    shipped = CLIPTokenizer.from_pretrained(Path(SHIPPED["shapes"]) / "tokenizer", local_files_only=True)
    prompt = "three small purple squares on a yellow background"
    assert shipped(prompt).input_ids == tokenizer(prompt).input_ids
    assert shipped.model_max_length == tokenizer.model_max_length == PROMPT_TOKENS
