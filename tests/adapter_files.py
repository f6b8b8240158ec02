"""IP-Adapters for the tiny UNet models, with random weights, in the layout diffusers'
`load_ip_adapter` reads (`ip-adapter.safetensors` with `image_proj.*` and `ip_adapter.*` keys, and
an `image_encoder/` CLIP vision model with its processor config): they change the images for real."""

from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

EMBED_DIM = 32
TOKENS = 4
"""Image tokens the projection makes (what the loader assumes for a plain IP-Adapter)."""


def save_random_adapter(unet: UNet2DConditionModel, folder: Path, *, seed: int = 0) -> Path:
    """A random IP-Adapter fitting `unet`'s cross-attention layers, written to `folder`."""
    generator = torch.Generator().manual_seed(seed)
    width = unet.config.cross_attention_dim
    weights = {
        "image_proj.proj.weight": torch.randn(TOKENS * width, EMBED_DIM, generator=generator),
        "image_proj.proj.bias": torch.zeros(TOKENS * width),
        "image_proj.norm.weight": torch.ones(width),
        "image_proj.norm.bias": torch.zeros(width),
    }
    layers = [name for name in unet.attn_processors if not name.endswith("attn1.processor")]
    modules = dict(unet.named_modules())
    for index, name in enumerate(layers):  # the loader numbers cross-attention layers 1, 3, 5 …
        attention = modules[name.removesuffix(".processor")]
        for part in ("to_k", "to_v"):
            shape = getattr(attention, part).weight.shape
            weights[f"ip_adapter.{2 * index + 1}.{part}_ip.weight"] = torch.randn(shape, generator=generator)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(folder / "ip-adapter.safetensors"))
    config = CLIPVisionConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        projection_dim=EMBED_DIM,
    )
    torch.manual_seed(seed)
    CLIPVisionModelWithProjection(config).save_pretrained(folder / "image_encoder")
    CLIPImageProcessor(size=32, crop_size=32).save_pretrained(folder / "image_encoder")
    return folder
