"""Midjourney's `--w`, `--s` and `--raw` measured on the tiny model's pixels: each moves the
pictures further the higher it goes, and the neutral settings change nothing."""

import numpy as np
import pytest

from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs
from models.catalog import Catalog, load_catalog
from worker.engine import Engine

HOUSE = "{prompt}, ornate baroque golden filigree, dramatic chiaroscuro"


@pytest.fixture(scope="module")
def engine(engines: dict[str, Engine]) -> Engine:
    return engines["tiny"]


@pytest.fixture(scope="module")
def housed() -> Catalog:
    """The built-in catalog, its default `tiny` with a house style."""
    catalog = load_catalog().model_dump()
    catalog["default"] = "tiny"
    catalog["styles"] = [{"name": "house", "prompt": HOUSE}]
    for model in catalog["models"]:
        if model["name"] == "tiny":
            model["house_style"] = "house"
    return Catalog.model_validate(catalog)


def _pixels(engine: Engine, catalog: Catalog, prompt: str) -> np.ndarray:
    (spec,) = imagine_specs(parse_prompt(f"{prompt} --seed 21 --steps 3"), catalog, seed=0)
    images = engine.imagine(spec.generation, lambda *_: None).images
    return np.stack([np.asarray(image, dtype=np.float64) for image in images])


def _distances(engine: Engine, catalog: Catalog, base: str, prompts: list[str]) -> list[float]:
    start = _pixels(engine, catalog, base)
    return [float(np.abs(_pixels(engine, catalog, prompt) - start).mean()) for prompt in prompts]


def test_a_higher_weird_moves_the_pictures_further(engine, housed):
    catalog = load_catalog()
    plain = "a lighthouse --model tiny"
    assert np.array_equal(_pixels(engine, catalog, plain), _pixels(engine, catalog, f"{plain} --w 0"))
    near, middle, far = _distances(
        engine, catalog, plain, [f"{plain} --w {weird}" for weird in (250, 1000, 3000)]
    )
    assert 0 < near < middle < far


def test_a_higher_stylize_moves_the_pictures_further_from_raw(engine, housed):
    raw = "a lighthouse --raw"
    assert np.array_equal(_pixels(engine, housed, raw), _pixels(engine, housed, "a lighthouse --s 0"))
    assert np.array_equal(_pixels(engine, housed, raw), _pixels(engine, housed, "a lighthouse --style raw"))
    distances = _distances(engine, housed, raw, [f"a lighthouse --s {s}" for s in (25, 100, 400, 1000)])
    assert 0 < distances[0] < distances[1] < distances[2] < distances[3]


def test_without_a_house_style_stylize_moves_the_guidance(engine):
    catalog = load_catalog()
    plain = "a lighthouse --model tiny"
    assert np.array_equal(_pixels(engine, catalog, plain), _pixels(engine, catalog, f"{plain} --s 100"))
    near, far = _distances(engine, catalog, plain, [f"{plain} --s 400", f"{plain} --s 1000"])
    assert 0 < near < far
