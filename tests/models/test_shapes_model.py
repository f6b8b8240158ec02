"""The shapes model as shipped: the built-in catalog's default, small, and drawing what prompts it
never saw during training ask for, read back from the pixels."""

from pathlib import Path

import numpy as np
import pytest
import torch

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.builtins import SHIPPED
from models.catalog import BuiltinSource, load_catalog
from models.families import FAMILY_DEFAULTS, Family
from models.loader import load_model
from tests.helpers import matching
from training.shapes.evaluate import grids
from training.shapes.measure import accuracy, read
from training.shapes.scenes import render
from training.shapes.scoring import held_out_scenes
from worker.engine import Engine


@pytest.fixture(scope="module")
def engine(model_cache: Path) -> Engine:
    model = load_model(load_catalog().get("shapes"), cache_dir=model_cache, device=torch.device("cpu"))
    return Engine(model, vae_tile_pixels=1024 * 1024)


def test_it_is_the_default_and_ships_as_safetensors_under_30_mb() -> None:
    catalog = load_catalog()
    assert catalog.default == "shapes"
    assert catalog.get().source == BuiltinSource(name="shapes")
    files = [path for path in SHIPPED["shapes"].rglob("*") if path.is_file()]
    weights = [path for path in files if path.suffix in {".safetensors", ".bin", ".pt", ".ckpt"}]
    assert {path.parent.name for path in weights} == {"unet", "vae", "text_encoder"}
    assert all(path.suffix == ".safetensors" for path in weights)
    assert sum(path.stat().st_size for path in files) < 30 * 1024 * 1024
    assert (SHIPPED["shapes"] / "README.md").is_file()  # the model card


def test_it_draws_a_red_circle_on_a_blue_background(engine: Engine) -> None:
    prompt = parse_prompt("a red circle on a blue background --seed 3")
    generation = generation_for(prompt, engine.model.entry.profile())
    readings = [read(image) for image in engine.imagine(generation, lambda *_: None).images]
    assert matching(readings, colour="red", shape="circle", background="blue") >= 3, readings


def test_held_out_prompts_come_out_right_in_colour_shape_and_count(engine: Engine) -> None:
    """The issue's targets (colour ≥ 90 %, shape ≥ 70 %) on 8 held-out prompts, measured at 100 %,
    100 % and count 97 % (the card has the full evaluation); other CPUs' arithmetic may differ."""
    result = accuracy(grids(engine, held_out_scenes(8), seed=5))
    assert result.scenes == 32
    assert result.colour >= 0.9 and result.shape >= 0.7 and result.count >= 0.8, result


def test_its_previews_look_like_the_picture(engine: Engine) -> None:
    """The catalog's latent-to-RGB fit for this VAE: rough, but far closer than SD1.5's factors."""
    chosen = held_out_scenes(32)
    pixels = torch.stack([torch.from_numpy(np.asarray(render(scene), dtype=np.float32)) for scene in chosen])
    images = pixels.permute(0, 3, 1, 2) / 127.5 - 1
    vae = engine.model.text2img.vae
    with torch.no_grad():
        latents = vae.encode(images).latent_dist.mean * vae.config.scaling_factor
    target = torch.nn.functional.adaptive_avg_pool2d(images, latents.shape[-2:])

    def error(factors: tuple, bias: tuple) -> float:
        rgb = torch.einsum("bchw,cr->brhw", latents, torch.tensor(factors))
        rgb = rgb + torch.tensor(bias).view(1, 3, 1, 1)
        return (rgb - target).abs().mean().item()

    ours = error(engine.model.defaults.latent_rgb_factors, engine.model.defaults.latent_rgb_bias)
    sd15 = FAMILY_DEFAULTS[Family.SD15]
    assert ours < 0.45
    assert ours < error(sd15.latent_rgb_factors, sd15.latent_rgb_bias) / 2


def test_an_a1111_weight_on_a_colour_moves_the_pictures_colour(engine: Engine) -> None:
    """Weighed against a second colour, `(red:1.5)` keeps the circle red and `(red:0.5)` lets blue
    win: measured 9 % red pixels against 0 % over seeds 1, 5 and 9 (red: R > 150, G and B < 110)."""

    def red_fraction(weight: str) -> float:
        images = []
        for seed in (1, 5):
            prompt = parse_prompt(f"a (red:{weight}) blue circle on a green background --seed {seed}")
            images += engine.imagine(
                generation_for(prompt, engine.model.entry.profile()), lambda *_: None
            ).images
        pixels = np.stack([np.asarray(image, dtype=np.int16) for image in images])
        red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        return float(((red > 150) & (green < 110) & (blue < 110)).mean())

    strong, weak = red_fraction("1.5"), red_fraction("0.5")
    assert strong > 0.04 and weak < strong / 4, (strong, weak)
