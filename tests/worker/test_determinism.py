"""The same spec gives the same pixels on the CPU; chaos, tiling and samplers change them."""

import pytest

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.catalog import load_catalog
from worker.engine import Engine


def _render(engine: Engine, prompt: str) -> list[bytes]:
    generation = generation_for(parse_prompt(prompt), load_catalog().get("tiny").profile())
    return [image.tobytes() for image in engine.imagine(generation, lambda *_: None).images]


@pytest.fixture(scope="module")
def engine(engines: dict[str, Engine]) -> Engine:
    return engines["tiny"]


def test_same_seed_same_images(engine):
    assert _render(engine, "a red circle --seed 42 --steps 3") == _render(
        engine, "a red circle --seed 42 --steps 3"
    )


def test_each_image_has_its_own_seed(engine):
    grid = _render(engine, "a red circle --seed 42 --steps 3")
    assert len(set(grid)) == 4
    assert _render(engine, "a red circle --seed 43 --steps 3")[0] == grid[1]


@pytest.mark.parametrize(
    "change", ["--seed 5", "--chaos 80", "--tile", "--sampler euler_a", "--no blue", "--cfg 2"]
)
def test_parameters_reach_the_pixels(engine, change):
    base = _render(engine, "a red circle --seed 4 --steps 3")
    changed = _render(
        engine, f"a red circle --steps 3 {change}" + ("" if "--seed" in change else " --seed 4")
    )
    assert changed != base


def test_chaos_keeps_the_first_seed_reproducible(engine):
    assert _render(engine, "dots --seed 9 --chaos 50 --steps 2") == _render(
        engine, "dots --seed 9 --chaos 50 --steps 2"
    )


def test_weighted_parts_blend_the_prompts(engine):
    cat, dog = _render(engine, "cat --seed 3 --steps 2"), _render(engine, "dog --seed 3 --steps 2")
    blend = _render(engine, "cat::1 dog::1 --seed 3 --steps 2")
    assert blend != cat and blend != dog
    assert _render(engine, "cat::2 dog::-1 --seed 3 --steps 2") != blend


@pytest.mark.parametrize(
    "sampler",
    ["euler", "euler_a", "heun", "lms", "ddim", "pndm", "dpm++2m", "dpm++2m_karras", "dpm++sde", "unipc"],
)
def test_every_sampler_runs(engine, sampler):
    assert len(_render(engine, f"a square --seed 1 --steps 3 --sampler {sampler}")) == 4


def test_tiling_restores_the_shared_pipeline(engine):
    plain = _render(engine, "a red circle --seed 4 --steps 2")
    _render(engine, "a red circle --seed 4 --steps 2 --tile")
    assert _render(engine, "a red circle --seed 4 --steps 2") == plain


def test_large_images_use_a_tiled_vae_for_that_job_only(engine):
    generation = generation_for(
        parse_prompt("a red circle --seed 4 --steps 2"), load_catalog().get("tiny").profile()
    )
    init = engine.imagine(generation, lambda *_: None).images[0]
    bigger = generation.model_copy(update={"width": 2 * generation.width, "height": 2 * generation.height})
    tiled = Engine(engine.model, vae_tile_pixels=generation.width * generation.height)
    seen: list[bool] = []
    render = tiled.refine(
        bigger,
        [init.resize((bigger.width, bigger.height))],
        0.5,
        lambda *_: seen.append(engine.model.img2img.vae.use_tiling),
    )
    assert render.images[0].size == (bigger.width, bigger.height)
    assert seen and all(seen)
    assert not engine.model.img2img.vae.use_tiling
