"""LoRA files for the tiny models, made with peft and saved as `.safetensors` the way trainers ship
them: in diffusers' key layout (`save_lora_weights`) or in kohya-ss's (civitai's, as A1111 and
ComfyUI read them). The same `seed` makes the same LoRA in either layout."""

import copy
import re
from pathlib import Path

import torch
from diffusers import DiffusionPipeline, StableDiffusionPipeline, StableDiffusionXLPipeline
from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
from safetensors.torch import save_file

_DENOISER_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
_CLIP_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
_CLIP_ENCODERS = {"text_encoder": "lora_te", "text_encoder_2": "lora_te2"}
"""The CLIP text encoders a LoRA may touch, and kohya's key prefix for each (SDXL: te1 and te2)."""


def save_diffusers_lora(
    pipe: DiffusionPipeline,
    path: Path,
    *,
    seed: int = 0,
    rank: int = 4,
    scale: float = 1.0,
    text_encoder: bool = True,
) -> Path:
    """A LoRA on `pipe`'s denoiser's attention (and, with `text_encoder`, its CLIP encoders'),
    saved with the pipeline class's own `save_lora_weights`; `pipe` is left as it was."""
    layers = _layers(pipe, seed=seed, rank=rank, scale=scale, text_encoder=text_encoder)
    denoiser = "unet" if _has(pipe, "unet") else "transformer"
    keywords = {f"{denoiser}_lora_layers": layers.pop(denoiser)}
    keywords |= {f"{name}_lora_layers": state for name, state in layers.items()}
    type(pipe).save_lora_weights(path.parent, weight_name=path.name, **keywords)
    return path


def save_kohya_lora(
    pipe: DiffusionPipeline, path: Path, *, seed: int = 0, rank: int = 4, scale: float = 1.0
) -> Path:
    """The LoRA `save_diffusers_lora` makes from the same arguments, in kohya's key layout
    (`lora_unet_…`, `lora_te_…` / `lora_te1_…` `lora_te2_…`, `lora_down` / `lora_up`, and an
    `alpha` of `rank`, so the effect is the same). SD1.5 and SDXL only; SDXL's UNet keys in the
    original (SGM) block numbering kohya's SDXL trainer writes (`input_blocks_4_1_…`)."""
    if not isinstance(pipe, StableDiffusionPipeline | StableDiffusionXLPipeline):
        raise TypeError(f"kohya's layout is made here for SD1.5 and SDXL, not {type(pipe).__name__}")
    prefixes = {"unet": "lora_unet"} | _CLIP_ENCODERS
    sgm = isinstance(pipe, StableDiffusionXLPipeline)
    if sgm:
        prefixes["text_encoder"] = "lora_te1"
    tensors = {}
    for component, state in _layers(pipe, seed=seed, rank=rank, scale=scale, text_encoder=True).items():
        for key, value in state.items():
            module, _, kind = key.rpartition(".lora_")  # `….to_q`, `A.weight`
            if sgm and component == "unet":
                module = _sgm(module, pipe.unet.config.layers_per_block)
            name = f"{prefixes[component]}_{module.replace('.', '_')}"
            tensors[f"{name}.lora_{'down' if kind == 'A.weight' else 'up'}.weight"] = value.contiguous()
            tensors[f"{name}.alpha"] = torch.tensor(float(rank))
    save_file(tensors, str(path))
    return path


def _sgm(module: str, layers_per_block: int) -> str:
    """A diffusers UNet module path in the original SDXL UNet's numbering: the attentions of down
    block b, layer j are `input_blocks.{(L+1)b + j + 1}.1`; of up block b, `output_blocks.{(L+1)b + j}.1`."""
    per_block = layers_per_block + 1
    if match := re.match(r"down_blocks\.(\d+)\.attentions\.(\d+)\.", module):
        block, layer = map(int, match.groups())
        return f"input_blocks.{per_block * block + layer + 1}.1.{module[match.end() :]}"
    if match := re.match(r"up_blocks\.(\d+)\.attentions\.(\d+)\.", module):
        block, layer = map(int, match.groups())
        return f"output_blocks.{per_block * block + layer}.1.{module[match.end() :]}"
    return module.replace("mid_block.attentions.0.", "middle_block.1.")


def _layers(
    pipe: DiffusionPipeline, *, seed: int, rank: int, scale: float, text_encoder: bool
) -> dict[str, dict[str, torch.Tensor]]:
    """The LoRA's A and B matrices by component, in peft's naming (`….to_q.lora_A.weight`)."""
    generator = torch.Generator().manual_seed(seed)
    denoiser = "unet" if _has(pipe, "unet") else "transformer"
    parts = {denoiser: _DENOISER_TARGETS}
    if text_encoder:
        parts |= {name: _CLIP_TARGETS for name in _CLIP_ENCODERS if _is_clip(pipe, name)}
    return {
        name: _lora_state(getattr(pipe, name), targets, rank=rank, scale=scale, generator=generator)
        for name, targets in parts.items()
    }


def _lora_state(
    module: torch.nn.Module, targets: list[str], *, rank: int, scale: float, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    copied = copy.deepcopy(module)  # the pipeline's own modules stay as they were
    inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=rank, target_modules=targets), copied)
    with torch.no_grad():
        for name, parameter in sorted(copied.named_parameters()):
            if ".lora_" in name:  # B starts at zero: seeded values, so the LoRA does something
                noise = torch.randn(parameter.shape, generator=generator)
                parameter.copy_(noise * scale / parameter.shape[-1] ** 0.5)
    return get_peft_model_state_dict(copied)


def _has(pipe: DiffusionPipeline, name: str) -> bool:
    return getattr(pipe, name, None) is not None


def _is_clip(pipe: DiffusionPipeline, name: str) -> bool:
    return _has(pipe, name) and type(getattr(pipe, name)).__name__.startswith("CLIPText")
