"""The shipped shapes IP-Adapter: it loads through diffusers' `load_ip_adapter`, fits in 10 MB, and
a picture steers what the shapes model draws (the figures of its model card, on fewer images)."""

import pytest
import torch
from diffusers import StableDiffusionPipeline

from training.adapter.evaluate import BLEND_A, BLEND_B, blend_figures, sref_figures, sref_prompts
from training.adapter.parts import SHIPPED, load_pipeline


@pytest.fixture(scope="module")
def pipeline() -> StableDiffusionPipeline:
    torch.set_num_threads(1)
    return load_pipeline(SHIPPED)


def test_the_shipped_folder_is_under_10_mb_in_safetensors() -> None:
    files = [path for path in SHIPPED.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) < 10 * 2**20
    assert {path.name for path in files} >= {
        "ip-adapter.safetensors",
        "model.safetensors",
        "config.json",
        "preprocessor_config.json",
        "README.md",
    }
    assert not list(SHIPPED.rglob("*.bin"))


def test_a_style_reference_on_yellow_moves_the_background_to_yellow(
    pipeline: StableDiffusionPipeline,
) -> None:
    prompts, seeds = sref_prompts(4), [0, 1]  # held-out prompts that leave the background out
    alone = sref_figures(pipeline, prompts, seeds, None, background=False)
    steered = sref_figures(pipeline, prompts, seeds, 1.0, background=False)
    assert alone.yellow <= 0.25 and steered.yellow >= 0.75, (alone, steered)
    assert steered.distance < alone.distance / 2, (alone, steered)
    assert steered.prompt_colour >= 0.75, steered  # the prompt still says what to draw


def test_a_blend_takes_its_background_from_one_picture_and_its_colour_from_the_other(
    pipeline: StableDiffusionPipeline,
) -> None:
    """A red circle on blue and a green square on white, their embeddings averaged, no prompt."""
    seeds = list(range(16))
    blend = blend_figures(pipeline, (0.5, 0.5), seeds, 1.0)
    alone = blend_figures(pipeline, None, seeds, 0.0)  # what no words draw
    figures = (blend.describe(BLEND_A, BLEND_B), alone.describe(BLEND_A, BLEND_B))
    assert blend.share("background", BLEND_A.background) >= 0.5, figures  # A's blue
    assert blend.share("colour", BLEND_B.colour) >= 0.4, figures  # B's green
    assert alone.share("background", BLEND_A.background) <= 0.1, figures
    assert alone.share("colour", BLEND_B.colour) <= 0.25, figures
