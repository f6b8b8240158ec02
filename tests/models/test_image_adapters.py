"""An IP-Adapter in a model's pipelines: loaded with diffusers' loader, active for the calls that
use it and for no other (tiny model, random adapter weights)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.catalog import AdapterEntry, FolderSource, load_catalog
from models.image_adapters import AdapterError, ImageAdapter
from models.loader import LoadedModel, load_model
from tests.adapter_files import save_random_adapter
from worker.engine import Engine
from worker.errors import AdapterNotServedError


@pytest.fixture(scope="module")
def model(model_cache: Path) -> LoadedModel:
    return load_model(
        load_catalog().get("tiny"), cache_dir=model_cache, device=torch.device("cpu"), dtype="fp32"
    )


def _entry(folder: Path, **changes: object) -> AdapterEntry:
    return AdapterEntry.model_validate(
        {"name": "ip", "families": ["sd15"], "source": FolderSource(path=folder), **changes}
    )


def _arrays(images: list[Image.Image]) -> list[np.ndarray]:
    return [np.asarray(image) for image in images]


def test_the_adapter_changes_only_the_calls_that_use_it(model, tmp_path):
    generation = generation_for(
        parse_prompt("a red circle --seed 3 --steps 2"), load_catalog().get("tiny").profile()
    )
    plain = _arrays(Engine(model, vae_tile_pixels=1 << 30).imagine(generation, lambda *_: None).images)
    adapter = ImageAdapter(_entry(save_random_adapter(model.text2img.unet, tmp_path / "ip")), model)
    engine = Engine(model, vae_tile_pixels=1 << 30, adapter=adapter)
    same = _arrays(engine.imagine(generation, lambda *_: None).images)
    assert all(np.array_equal(a, b) for a, b in zip(same, plain, strict=True))  # loaded, not active
    reference = Image.new("RGB", (64, 64), (230, 200, 30))
    styled = _arrays(engine.imagine(generation, lambda *_: None, engine.style([reference], 100)).images)
    assert not any(np.array_equal(a, b) for a, b in zip(styled, plain, strict=True))
    stronger = _arrays(engine.imagine(generation, lambda *_: None, engine.style([reference], 300)).images)
    assert not np.array_equal(stronger[0], styled[0])  # --sw scales it
    after = _arrays(engine.imagine(generation, lambda *_: None).images)
    assert all(np.array_equal(a, b) for a, b in zip(after, plain, strict=True))  # switched out again
    # img2img shares the UNet, and the adapter with it.
    varied = engine.refine(generation, [reference] * 2, 0.7, lambda *_: None, engine.style([reference], 100))
    assert len(varied.images) == 2


def test_weighted_references_average_their_embeddings_by_their_shares(model, tmp_path):
    """`--sref <a>::3 <b>`: a's embedding counts three times b's; shares are relative."""
    adapter = ImageAdapter(_entry(save_random_adapter(model.text2img.unet, tmp_path / "ip")), model)
    engine = Engine(model, vae_tile_pixels=1 << 30, adapter=adapter)
    yellow, blue = Image.new("RGB", (64, 64), (230, 200, 30)), Image.new("RGB", (64, 64), (20, 40, 200))
    a, b = (engine.style([image], 100).embedding for image in (yellow, blue))
    assert not torch.allclose(a, b)
    both = [yellow, blue]
    assert torch.allclose(engine.style(both, 100, (3, 1)).embedding, 0.75 * a + 0.25 * b, atol=1e-5)
    assert torch.allclose(engine.style(both, 100, (1, 0)).embedding, a, atol=1e-5)
    assert torch.allclose(engine.style(both, 100, (2, 2)).embedding, engine.style(both, 100).embedding)
    assert engine.style(both, 300, (3, 1)).scale == engine.style(both, 300).scale  # --sw apart


def test_sw_scales_the_catalogs_scale_up_to_the_limit(model, tmp_path):
    adapter = ImageAdapter(
        _entry(save_random_adapter(model.text2img.unet, tmp_path / "ip"), scale=0.5), model
    )
    assert [adapter.scale(weight) for weight in (0, 100, 300, 1000)] == [0.0, 0.5, 1.5, 2.0]


def test_an_adapter_that_is_missing_or_does_not_fit_is_refused_naming_it(model, tmp_path):
    with pytest.raises(AdapterError, match="adapter `ip`: there is no"):
        ImageAdapter(_entry(tmp_path / "nowhere"), model)
    wrong = save_random_adapter(model.text2img.unet, tmp_path / "wrong")
    (wrong / "ip-adapter.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(AdapterError, match="does not load into `tiny`"):
        ImageAdapter(_entry(wrong), model)


def test_a_model_without_an_adapter_refuses_style_references(model):
    with pytest.raises(AdapterNotServedError, match="no image adapter"):
        Engine(model, vae_tile_pixels=1 << 30).style([Image.new("RGB", (8, 8))], 100)
