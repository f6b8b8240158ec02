"""The SDXL path of the engine on a tiny SDXL-shaped pipeline (two text encoders, pooled text and
time embeddings), saved and loaded back through the production loader."""

import numpy as np
import pytest
import torch
from PIL import Image

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from jobs.specs import Generation
from models.catalog import CatalogEntry, FolderSource
from models.families import Family
from models.loader import load_model
from models.tiny.parts import TINY_SIZE
from models.tiny.sdxl import build_tiny_sdxl
from worker.engine import Engine

SIZE = TINY_SIZE


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("tiny-sdxl") / "model"
    build_tiny_sdxl(0).save_pretrained(folder)
    entry = CatalogEntry(
        name="tiny-xl",
        family=Family.SDXL,
        source=FolderSource(path=folder),
        native_width=SIZE,
        native_height=SIZE,
        size_multiple=8,
        max_pixels=4 * SIZE * SIZE,
    )
    model = load_model(entry, cache_dir=folder.parent, device=torch.device("cpu"))
    return Engine(model, vae_tile_pixels=1024 * 1024)


def _generation(engine: Engine, prompt: str) -> Generation:
    return generation_for(parse_prompt(prompt), engine.model.entry.profile())


def _pixels(images: list[Image.Image]) -> np.ndarray:
    return np.stack([np.asarray(image.convert("RGB"), np.int16) for image in images])


def test_an_sdxl_grid_follows_its_seeds(engine):
    generation = _generation(engine, "a red circle --seed 5 --steps 3")
    first = engine.imagine(generation, lambda *_: None).images
    assert [image.size for image in first] == [(SIZE, SIZE)] * 4
    again = _pixels(engine.imagine(generation, lambda *_: None).images)
    assert np.array_equal(_pixels(first), again)
    assert len({image.tobytes() for image in first}) == 4  # four seeds, four pictures


def test_sdxl_jobs_sharing_a_call_keep_their_own_prompts_and_pooled_embeddings(engine):
    jobs = [
        _generation(engine, "a red circle --seed 5 --steps 3"),
        _generation(engine, "a blue square::2 a tree --seed 11 --steps 3 --no text"),
    ]
    steps: list[list[int]] = [[], []]
    renders = engine.imagine_together(
        [
            (generation, lambda step, total, latents, n=n: steps[n].append(latents.shape[0]))
            for n, generation in enumerate(jobs)
        ]
    )
    assert steps == [[4, 4, 4], [4, 4, 4]]  # each job's callback sees its own four latents
    for generation, render in zip(jobs, renders, strict=True):
        alone = engine.imagine(generation, lambda *_: None)
        assert np.abs(_pixels(render.images) - _pixels(alone.images)).max() <= 2


def test_an_sdxl_image_upscales_and_varies_through_img2img(engine):
    generation = _generation(engine, "a green triangle --seed 2 --steps 4")
    source = engine.imagine(generation, lambda *_: None).images[0]
    bigger = generation.model_copy(update={"width": 2 * SIZE, "height": 2 * SIZE})
    upscaled = engine.refine(bigger, [source.resize((2 * SIZE, 2 * SIZE))], 0.3, lambda *_: None)
    assert upscaled.images[0].size == (2 * SIZE, 2 * SIZE)
    varied = engine.refine(generation, [source] * 4, 0.6, lambda *_: None)
    assert len(varied.images) == 4
