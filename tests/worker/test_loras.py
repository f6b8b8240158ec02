"""LoRAs in the worker, on the tiny SD1.5 and SDXL models saved and loaded through the production
loader: LoRA files made here with peft, in diffusers' key layout and in kohya's (civitai's), loaded
with diffusers' loaders, switched on per job at its weights and off again, exactly."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from jobs.specs import Generation, LoraUse
from models.catalog import CatalogEntry, FolderSource, LoraEntry, LoraFileSource
from models.families import Family
from models.loader import load_model
from models.tiny.sd import build_tiny_pipeline
from models.tiny.sdxl import build_tiny_sdxl
from tests.helpers import SEED_ARTICLE
from tests.lora_files import save_diffusers_lora, save_kohya_lora
from worker.engine import Engine, shared_call_key
from worker.errors import LoraLoadError, LoraNotServedError
from worker.loras import check_loras

BUILDERS: dict[Family, Callable[[], DiffusionPipeline]] = {
    Family.SD15: build_tiny_pipeline,
    Family.SDXL: build_tiny_sdxl,
}
LONG = SEED_ARTICLE + ", " + ", ".join(f"a detail number {n}" for n in range(24))
"""The seed article's prompt grown well past CLIP's 77 tokens (over 700 of the tiny models'
byte-level tokenizer's; about 150 of real CLIP's, by our estimate): read in chunks, none left out."""


def _lora(name: str, path: Path, family: Family) -> LoraEntry:
    return LoraEntry(name=name, families=(family,), source=LoraFileSource(path=path))


@pytest.fixture(scope="module", params=list(BUILDERS), ids=lambda family: family.value)
def family(request: pytest.FixtureRequest) -> Family:
    return request.param


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, family: Family) -> tuple[Path, dict[str, LoraEntry]]:
    """The model's folder, and LoRAs for it: the same LoRA in both layouts, a second one, and a
    file that is no LoRA at all."""
    folder = tmp_path_factory.mktemp(f"loras-{family.value}")
    pipe = BUILDERS[family]()
    pipe.save_pretrained(folder / "model")
    broken = folder / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    files = {
        "ink": save_diffusers_lora(pipe, folder / "ink.safetensors", seed=1, scale=1.0),
        "ink-kohya": save_kohya_lora(pipe, folder / "ink-kohya.safetensors", seed=1, scale=1.0),
        "paper": save_diffusers_lora(pipe, folder / "paper.safetensors", seed=2, scale=1.0),
        "broken": broken,
    }
    return folder / "model", {name: _lora(name, path, family) for name, path in files.items()}


def _engine(made: tuple[Path, dict[str, LoraEntry]], family: Family, *, resident: int = 8) -> Engine:
    folder, loras = made
    entry = CatalogEntry(
        name=f"tiny-{family.value}",
        family=family,
        source=FolderSource(path=folder),
        size_multiple=8,
        native_width=64,
        native_height=64,
        max_pixels=4 * 64 * 64,
    )
    model = load_model(entry, cache_dir=folder.parent, device=torch.device("cpu"))
    return Engine(model, vae_tile_pixels=1 << 20, loras=loras, loras_resident=resident)


@pytest.fixture(scope="module")
def engine(made: tuple[Path, dict[str, LoraEntry]], family: Family) -> Engine:
    return _engine(made, family)


def _generation(engine: Engine, text: str, *loras: tuple[str, float]) -> Generation:
    generation = generation_for(parse_prompt(f"{text} --steps 3 --seed 11"), engine.model.entry.profile())
    return generation.model_copy(update={"loras": tuple(LoraUse(name=n, weight=w) for n, w in loras)})


def _pixels(engine: Engine, generation: Generation) -> np.ndarray:
    images = engine.imagine(generation, lambda *_: None).images
    return np.stack([np.asarray(image, dtype=np.int16) for image in images])


def test_a_lora_changes_the_pixels_by_its_weight_and_leaves_no_trace(engine: Engine, made, family):
    fresh = _pixels(_engine(made, family), _generation(engine, "a red circle"))
    plain = _pixels(engine, _generation(engine, "a red circle"))
    assert np.array_equal(plain, fresh)
    full = _pixels(engine, _generation(engine, "a red circle", ("ink", 1.0)))
    half = _pixels(engine, _generation(engine, "a red circle", ("ink", 0.5)))
    kohya = _pixels(engine, _generation(engine, "a red circle", ("ink-kohya", 1.0)))
    change_full, change_half = np.abs(full - plain).mean(), np.abs(half - plain).mean()
    assert change_full > 1 and 0 < change_half < change_full, (change_full, change_half)
    # Measured: a mean change of 24.7 (SD1.5) and 15.1 (SDXL) levels of 255 at weight 1, 8.5 and
    # 9.3 at 0.5; the kohya file's pixels equal the diffusers file's.
    assert np.abs(kohya - full).max() <= 2  # the same LoRA from civitai's layout
    # Off again: exactly what a worker that never loaded a LoRA makes.
    assert np.array_equal(_pixels(engine, _generation(engine, "a red circle")), fresh)


def test_several_loras_apply_together_and_the_least_recently_used_is_unloaded(made, family):
    engine = _engine(made, family, resident=2)
    alone = _pixels(engine, _generation(engine, "a blue square", ("ink", 1.0)))
    both = _pixels(engine, _generation(engine, "a blue square", ("ink", 1.0), ("paper", 1.0)))
    assert np.abs(both - alone).mean() > 1
    assert engine.loras.loaded == ("ink", "paper")
    _pixels(engine, _generation(engine, "a blue square", ("ink-kohya", 1.0)))
    assert engine.loras.loaded == ("paper", "ink-kohya")  # `ink` went: used longest ago
    # Loaded again later, it does the same as before.
    assert np.array_equal(_pixels(engine, _generation(engine, "a blue square", ("ink", 1.0))), alone)


def test_a_lora_that_fails_to_load_fails_the_job_naming_it_and_the_worker_goes_on(engine: Engine):
    before = _pixels(engine, _generation(engine, "a green triangle"))
    with pytest.raises(LoraLoadError, match="the LoRA `broken` could not be loaded"):
        _pixels(engine, _generation(engine, "a green triangle", ("broken", 1.0)))
    assert "broken" not in engine.loras.loaded
    assert np.array_equal(_pixels(engine, _generation(engine, "a green triangle")), before)


def test_a_long_weighted_prompt_with_a_lora_runs_whole(engine: Engine):
    parsed = parse_prompt(LONG)
    generation = _generation(engine, LONG).model_copy(
        update={"loras": (LoraUse(name="ink", weight=parsed.loras[0].weight),)}
    )
    render = engine.imagine(generation, lambda *_: None)
    assert render.warnings == ()  # nothing past token 77 was left out
    shorter = _generation(engine, LONG.rsplit(", a detail", 1)[0]).model_copy(
        update={"loras": generation.loras}
    )
    assert render.images[0].tobytes() != engine.imagine(shorter, lambda *_: None).images[0].tobytes()


def test_jobs_with_different_loras_never_share_a_call(engine: Engine):
    plain = _generation(engine, "a red circle")
    inked = plain.model_copy(update={"loras": (LoraUse(name="ink", weight=1.0),)})
    stronger = plain.model_copy(update={"loras": (LoraUse(name="ink", weight=1.2),)})
    keys = {shared_call_key(g) for g in (plain, inked, stronger)}
    assert len(keys) == 3
    assert shared_call_key(inked.model_copy(update={"seed": 5})) == shared_call_key(inked)
    with pytest.raises(ValueError, match="same shared_call_key"):
        engine.imagine_together([(plain, lambda *_: None), (inked, lambda *_: None)])


def test_the_worker_refuses_a_lora_it_does_not_serve_or_for_another_family(made, family):
    _, served = made
    other = next(fits for fits in BUILDERS if fits is not family)
    with pytest.raises(LoraNotServedError, match="serves no LoRA `sneaky`"):
        check_loras([LoraUse(name="sneaky", weight=1)], served, "m", family.value)
    with pytest.raises(LoraNotServedError, match="the LoRA `ink` is not made for `m`'s family"):
        check_loras([LoraUse(name="ink", weight=1)], served, "m", other.value)
