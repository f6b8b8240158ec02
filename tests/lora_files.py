"""LoRA files for the tiny pipelines, made with peft and random weights, in the two layouts found in
the wild: diffusers' own (what its training scripts save) and kohya-ss's (what civitai serves, and
A1111 and ComfyUI load). Loaded with `pipe.load_lora_weights`, they change the models for real."""

import copy
import re
from pathlib import Path

import torch
from diffusers import DiffusionPipeline, StableDiffusionPipeline, StableDiffusionXLPipeline
from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
from safetensors.torch import save_file
from torch import nn
from transformers import CLIPTextModel, CLIPTextModelWithProjection

DENOISER_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
"""The denoisers' attention projections the LoRAs adapt (UNets' and every transformer family's)."""
TEXT_ENCODER_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")
"""The CLIP text encoders' attention projections the LoRAs adapt."""
KOHYA_ALPHA = 1.0
"""The `.alpha` of kohya files (kohya's default `--network_alpha`): their up weights are multiplied
by rank / alpha so that, with the loader's alpha / rank scaling, they equal the diffusers file's."""
_TEXT_ENCODERS = ("text_encoder", "text_encoder_2")


def save_diffusers_lora(
    pipe: DiffusionPipeline,
    path: Path,
    *,
    seed: int = 0,
    rank: int = 4,
    scale: float = 1.0,
    text_encoder: bool = True,
) -> Path:
    """Save a random LoRA for `pipe` at `path` (a `.safetensors` file) in diffusers' layout, with
    the pipeline class's `save_lora_weights`; `pipe` itself is left unchanged.

    The LoRA adapts the denoiser's attention projections and, with `text_encoder`, those of the
    pipeline's CLIP text encoders (others are left out). Its weight change B·A is proportional
    to `scale`; the same arguments give the same LoRA.
    """
    layers = _lora_layers(pipe, seed=seed, rank=rank, scale=scale, text_encoder=text_encoder)
    type(pipe).save_lora_weights(
        save_directory=path.parent,
        weight_name=path.name,
        **{f"{component}_lora_layers": state for component, state in layers.items()},
    )
    return path


def save_kohya_lora(
    pipe: DiffusionPipeline, path: Path, *, seed: int = 0, rank: int = 4, scale: float = 1.0
) -> Path:
    """Save the LoRA `save_diffusers_lora` makes with the same arguments (text encoders included),
    in kohya-ss's layout, at `path` (a `.safetensors` file); `pipe` itself is left unchanged.

    Keys are `lora_unet_…` and `lora_te_…` (SD1.5) or `lora_te1_…`/`lora_te2_…` (SDXL, whose UNet
    keys name the original SGM blocks, `input_blocks_4_1_…`, as kohya's SDXL trainer writes
    them), each module with `.lora_down.weight`, `.lora_up.weight` and `.alpha` (`KOHYA_ALPHA`).
    Only SD1.5 and SDXL pipelines have this layout: others raise `TypeError`.
    """
    if isinstance(pipe, StableDiffusionXLPipeline):
        prefixes = {"unet": "lora_unet", "text_encoder": "lora_te1", "text_encoder_2": "lora_te2"}
        sgm_layers = pipe.unet.config.layers_per_block
    elif isinstance(pipe, StableDiffusionPipeline):
        prefixes = {"unet": "lora_unet", "text_encoder": "lora_te"}
        sgm_layers = None
    else:
        raise TypeError(f"kohya LoRA files are for SD1.5 and SDXL pipelines, not {type(pipe).__name__}")
    state = {}
    for component, layers in _lora_layers(pipe, seed=seed, rank=rank, scale=scale, text_encoder=True).items():
        for key, down in layers.items():
            if not key.endswith(".lora_A.weight"):
                continue
            module = key.removesuffix(".lora_A.weight")
            up = layers[f"{module}.lora_B.weight"]
            if component == "unet" and sgm_layers is not None:
                module = _sgm_module(module, sgm_layers)
            elif component != "unet" and not module.startswith("text_model."):
                module = f"text_model.{module}"  # transformers 5's CLIPTextModel lost this level
            name = f"{prefixes[component]}_{module.replace('.', '_')}"
            state[f"{name}.lora_down.weight"] = down
            state[f"{name}.lora_up.weight"] = up * (rank / KOHYA_ALPHA)
            state[f"{name}.alpha"] = torch.tensor(KOHYA_ALPHA)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, path)
    return path


def _lora_layers(
    pipe: DiffusionPipeline, *, seed: int, rank: int, scale: float, text_encoder: bool
) -> dict[str, dict[str, torch.Tensor]]:
    """The peft LoRA state dict of each adapted component, by component name (`unet`,
    `transformer`, `text_encoder`, `text_encoder_2`), made on copies of the components."""
    generator = torch.Generator().manual_seed(seed)
    targets = {"unet" if hasattr(pipe, "unet") else "transformer": DENOISER_TARGETS}
    if text_encoder:
        for name in _TEXT_ENCODERS:
            if isinstance(getattr(pipe, name, None), CLIPTextModel | CLIPTextModelWithProjection):
                targets[name] = TEXT_ENCODER_TARGETS
    return {
        name: _random_lora(getattr(pipe, name), modules, rank=rank, scale=scale, generator=generator)
        for name, modules in targets.items()
    }


def _random_lora(
    model: nn.Module, targets: tuple[str, ...], *, rank: int, scale: float, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """A random LoRA of `targets` in a copy of `model`, as peft's state dict: A ~ N(0, 1/in) and
    B ~ N(0, scale²/rank), so B·A is about as large as the initial weights, times `scale`."""
    adapted = copy.deepcopy(model)
    inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=rank, target_modules=list(targets)), adapted)
    with torch.no_grad():
        for name, param in adapted.named_parameters():
            if ".lora_A." in name:
                std = param.shape[1] ** -0.5
            elif ".lora_B." in name:
                std = scale * rank**-0.5
            else:
                continue
            param.copy_(torch.randn(param.shape, generator=generator) * std)
    return get_peft_model_state_dict(adapted)


_SGM_BLOCK = re.compile(r"(down_blocks|mid_block|up_blocks)\.(?:(\d+)\.)?attentions\.(\d+)\.(.+)")


def _sgm_module(module: str, layers_per_block: int) -> str:
    """A diffusers UNet attention module's path in the original SGM UNet kohya trains SDXL on:
    down block b's layer l is `input_blocks.{1 + b·(layers + 1) + l}.1`, the middle attention
    `middle_block.1`, up block b's layer l `output_blocks.{b·(layers + 1) + l}.1`."""
    match = _SGM_BLOCK.fullmatch(module)
    if match is None:
        raise ValueError(f"{module} is not in a UNet attention block")
    blocks, block, layer, rest = match.groups()
    if blocks == "mid_block":
        return f"middle_block.1.{rest}"
    index = int(block) * (layers_per_block + 1) + int(layer)
    if blocks == "down_blocks":
        return f"input_blocks.{1 + index}.1.{rest}"
    return f"output_blocks.{index}.1.{rest}"
