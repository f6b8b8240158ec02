"""The tiny random-weights model: built without downloads, deterministic, cached safely."""

import threading
from pathlib import Path

import pytest
import torch

from models import tiny
from models.tiny import BUILD_VERSION, materialize_builtin
from models.tiny.parts import TINY_SIZE, byte_level_tokenizer
from models.tiny.sd import build_tiny_pipeline


def test_the_byte_level_tokenizer_needs_no_download():
    tokenizer = byte_level_tokenizer()
    assert len(tokenizer) == 2 * 256 + 2
    ids = tokenizer("a cat").input_ids
    # one id per byte, the last byte of each word in its end-of-word form, between the specials
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert len(ids) == 2 + len("acat")
    assert tokenizer.decode(ids, skip_special_tokens=True) == "a cat"
    padded = tokenizer("ünïcode ✓", padding="max_length", max_length=tokenizer.model_max_length).input_ids
    assert len(padded) == 77


def test_the_same_seed_builds_the_same_weights():
    first, again, other = build_tiny_pipeline(0), build_tiny_pipeline(0), build_tiny_pipeline(1)
    for name in ("unet", "vae", "text_encoder"):
        weights, same, different = (getattr(p, name).state_dict() for p in (first, again, other))
        assert all(torch.equal(weights[key], same[key]) for key in weights)
        assert not all(torch.equal(weights[key], different[key]) for key in weights)


def test_building_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_pipeline()
    assert torch.equal(torch.rand(3), expected)


def test_the_tiny_pipeline_is_small():
    pipe = build_tiny_pipeline()
    sizes = {
        name: sum(p.numel() for p in getattr(pipe, name).parameters())
        for name in ("unet", "vae", "text_encoder")
    }
    assert sum(sizes.values()) < 1_500_000
    assert pipe.vae_scale_factor == 4
    assert pipe.unet.config.sample_size * pipe.vae_scale_factor == TINY_SIZE


def counting_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    builds: list[int] = []

    def build() -> object:
        builds.append(1)
        return build_tiny_pipeline()

    monkeypatch.setitem(tiny.BUILTINS, "tiny", build)
    return builds


def test_a_builtin_is_built_once_and_then_reused(tmp_path, monkeypatch):
    builds = counting_builds(monkeypatch)
    folder = materialize_builtin("tiny", tmp_path)
    assert folder == tmp_path / "tiny"
    assert (folder / "model_index.json").is_file()
    assert materialize_builtin("tiny", tmp_path) == folder
    assert builds == [1]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tiny-")] == []  # no scratch left


def test_concurrent_workers_build_it_once(tmp_path, monkeypatch):
    builds = counting_builds(monkeypatch)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(materialize_builtin("tiny", tmp_path)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [tmp_path / "tiny"] * 3
    assert builds == [1]


@pytest.mark.parametrize("marker", [None, "0"], ids=["interrupted", "older-version"])
def test_an_incomplete_or_outdated_build_is_replaced(tmp_path, monkeypatch, marker):
    stale = tmp_path / "tiny"
    stale.mkdir()
    (stale / "leftover.bin").write_bytes(b"half written")
    if marker is not None:
        (stale / "imagine-builtin.txt").write_text(marker)
    builds = counting_builds(monkeypatch)
    folder = materialize_builtin("tiny", tmp_path)
    assert builds == [1]
    assert not (folder / "leftover.bin").exists()
    assert (folder / "imagine-builtin.txt").read_text() == BUILD_VERSION


def test_an_unknown_builtin_is_refused(tmp_path):
    with pytest.raises(ValueError, match="there is no builtin model `huge`; builtins: tiny"):
        materialize_builtin("huge", tmp_path)
