"""The test LoRA files (`tests.lora_files`) load into the tiny pipelines with diffusers' own loaders,
every key of them, and change what the models compute: the kohya-ss layout exactly as the
diffusers one made from the same seed."""

import contextlib
import copy
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from diffusers import (
    DiffusionPipeline,
    Flux2KleinPipeline,
    FluxPipeline,
    QwenImagePipeline,
    StableDiffusion3Pipeline,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    ZImagePipeline,
)
from peft.tuners.tuners_utils import BaseTunerLayer
from safetensors.torch import load_file
from transformers import CLIPTextModel, CLIPTextModelWithProjection

from models.tiny.flux import build_tiny_flux
from models.tiny.flux2_klein import build_tiny_flux2_klein
from models.tiny.qwen_image import build_tiny_qwen_image
from models.tiny.sd import build_tiny_pipeline
from models.tiny.sd3 import build_tiny_sd3
from models.tiny.sdxl import build_tiny_sdxl
from models.tiny.z_image import build_tiny_z_image
from tests.lora_files import save_diffusers_lora, save_kohya_lora

ADAPTER = "ink"
"""Not "x": transformers' `load_adapter` counts every key containing the adapter's name as an
adapter key, and reports `text_model.…` base weights as missing for a name found in `text`."""
CLIP_FAMILIES: dict[str, Callable[[], DiffusionPipeline]] = {
    "sd15": build_tiny_pipeline,
    "sdxl": build_tiny_sdxl,
}
TRANSFORMER_FAMILIES: dict[str, Callable[[], DiffusionPipeline]] = {
    "flux": build_tiny_flux,
    "sd3": build_tiny_sd3,
    "flux2-klein": build_tiny_flux2_klein,
    "z-image": build_tiny_z_image,
    "qwen-image": build_tiny_qwen_image,
}
LAYOUTS = {"diffusers": save_diffusers_lora, "kohya": save_kohya_lora}


@pytest.fixture(scope="module", params=list(CLIP_FAMILIES))
def clip_pipe(request: pytest.FixtureRequest) -> DiffusionPipeline:
    """An SD1.5 or SDXL tiny pipeline, never given a LoRA: tests load theirs into copies."""
    return CLIP_FAMILIES[request.param]()


@pytest.fixture(scope="module")
def clip_loras(clip_pipe: DiffusionPipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same LoRA for `clip_pipe` in each layout, by layout."""
    folder = tmp_path_factory.mktemp("loras")
    return {
        layout: save(clip_pipe, folder / f"{layout}.safetensors", seed=7) for layout, save in LAYOUTS.items()
    }


@pytest.fixture(scope="module", params=list(TRANSFORMER_FAMILIES))
def transformer_pipe(request: pytest.FixtureRequest) -> DiffusionPipeline:
    return TRANSFORMER_FAMILIES[request.param]()


@contextlib.contextmanager
def no_loader_warnings() -> Iterator[None]:
    """Fails if diffusers or transformers log a warning (unexpected or missing keys, no LoRA keys):
    they log them rather than warn, so pytest's `error` filter does not see them."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("diffusers", "transformers")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert [record.getMessage() for record in records] == []


def with_lora(pipe: DiffusionPipeline, path: Path) -> DiffusionPipeline:
    """A copy of `pipe` with the LoRA at `path` loaded and switched on at weight 1."""
    loaded = copy.deepcopy(pipe)
    with no_loader_warnings():
        loaded.load_lora_weights(path, adapter_name=ADAPTER)
    loaded.set_adapters([ADAPTER], [1.0])
    return loaded


def adapted_modules(pipe: DiffusionPipeline) -> Counter[str]:
    """How many modules of each component a LoRA wraps."""
    return Counter(
        name
        for name, component in pipe.components.items()
        if isinstance(component, torch.nn.Module)
        for module in component.modules()
        if isinstance(module, BaseTunerLayer)
    )


def modules_in_file(path: Path) -> Counter[str]:
    """How many modules of each component a diffusers-layout LoRA file adapts."""
    return Counter(key.split(".")[0] for key in load_file(path) if ".lora_A." in key)


@torch.no_grad()
def outputs(pipe: DiffusionPipeline) -> dict[str, torch.Tensor]:
    """The denoiser's output, and each CLIP text encoder's, on small fixed random inputs."""
    found = {"denoiser": denoise(pipe)}
    tokens = torch.tensor([[pipe.tokenizer.bos_token_id, 70, 71, 72, pipe.tokenizer.eos_token_id]])
    for name in ("text_encoder", "text_encoder_2"):
        encoder = getattr(pipe, name, None)
        if isinstance(encoder, CLIPTextModel | CLIPTextModelWithProjection):
            found[name] = encoder(tokens).last_hidden_state
    return found


def denoise(pipe: DiffusionPipeline) -> torch.Tensor:
    """One call of `pipe`'s denoiser on a 4×4-patch latent and 5 text tokens, from seed 0."""
    generator = torch.Generator().manual_seed(0)

    def noise(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=generator)

    t = torch.tensor([0.5])
    match pipe:
        case StableDiffusionXLPipeline():
            added = {"text_embeds": noise(1, 16), "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]])}
            return pipe.unet(noise(1, 4, 8, 8), 500, noise(1, 5, 32), added_cond_kwargs=added).sample
        case StableDiffusionPipeline():
            return pipe.unet(noise(1, 4, 8, 8), 500, noise(1, 5, 32)).sample
        case FluxPipeline():
            ids = torch.zeros(16, 3), torch.zeros(5, 3)
            return pipe.transformer(
                noise(1, 16, 64), noise(1, 5, 32), noise(1, 32), t, *ids, guidance=torch.tensor([3.5])
            ).sample
        case StableDiffusion3Pipeline():
            return pipe.transformer(noise(1, 16, 8, 8), noise(1, 5, 64), noise(1, 64), t * 1000).sample
        case Flux2KleinPipeline():
            return pipe.transformer(
                noise(1, 16, 128), noise(1, 5, 48), t, torch.zeros(1, 16, 4), torch.zeros(1, 5, 4)
            ).sample
        case ZImagePipeline():
            return pipe.transformer([noise(16, 1, 8, 8)], t, [noise(5, 32)]).sample[0]
        case QwenImagePipeline():
            return pipe.transformer(
                noise(1, 16, 64), noise(1, 5, 32), torch.ones(1, 5), t, img_shapes=[[(1, 4, 4)]]
            ).sample
    raise TypeError(f"no denoiser inputs for {type(pipe).__name__}")


def test_saving_leaves_the_pipeline_as_it_was(clip_pipe, tmp_path):
    weights = {name: value.clone() for name, value in clip_pipe.unet.state_dict().items()}
    encoder = {name: value.clone() for name, value in clip_pipe.text_encoder.state_dict().items()}
    for layout, save in LAYOUTS.items():
        save(clip_pipe, tmp_path / f"{layout}.safetensors")
    assert adapted_modules(clip_pipe) == Counter()
    for before, module in ((weights, clip_pipe.unet), (encoder, clip_pipe.text_encoder)):
        after = module.state_dict()
        assert after.keys() == before.keys()
        assert all(torch.equal(after[name], value) for name, value in before.items())


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_lora_file_loads_into_the_unet_and_every_text_encoder(clip_pipe, clip_loras, layout):
    loaded = with_lora(clip_pipe, clip_loras[layout])
    expected = modules_in_file(clip_loras["diffusers"])
    encoders = {"text_encoder", "text_encoder_2"} & set(clip_pipe.components)
    assert set(expected) == {"unet", *encoders}
    assert adapted_modules(loaded) == expected
    assert loaded.get_list_adapters() == {name: [ADAPTER] for name in expected}


def test_both_layouts_change_the_models_alike(clip_pipe, clip_loras):
    base = outputs(clip_pipe)
    diffusers = outputs(with_lora(clip_pipe, clip_loras["diffusers"]))
    kohya = outputs(with_lora(clip_pipe, clip_loras["kohya"]))
    assert base.keys() == diffusers.keys() == kohya.keys()
    for name, output in base.items():
        assert (diffusers[name] - output).abs().max() > 1e-2, name
        torch.testing.assert_close(kohya[name], diffusers[name], rtol=0, atol=1e-5)


def test_a_stronger_lora_changes_the_unet_more(clip_pipe, tmp_path):
    base = denoise(clip_pipe)
    weak, strong = (
        with_lora(clip_pipe, save_diffusers_lora(clip_pipe, tmp_path / f"{scale}.safetensors", scale=scale))
        for scale in (0.1, 1.0)
    )
    with torch.no_grad():
        assert (denoise(weak) - base).abs().mean() < (denoise(strong) - base).abs().mean()


def test_a_transformer_family_loads_its_lora_and_changes_its_output(transformer_pipe, tmp_path):
    path = save_diffusers_lora(transformer_pipe, tmp_path / "lora.safetensors")
    loaded = with_lora(transformer_pipe, path)
    expected = modules_in_file(path)
    assert "transformer" in expected
    assert adapted_modules(loaded) == expected
    with torch.no_grad():
        assert (denoise(loaded) - denoise(transformer_pipe)).abs().max() > 1e-2


def test_the_kohya_layout_is_for_sd15_and_sdxl_only(transformer_pipe, tmp_path):
    with pytest.raises(TypeError, match=type(transformer_pipe).__name__):
        save_kohya_lora(transformer_pipe, tmp_path / "lora.safetensors")
