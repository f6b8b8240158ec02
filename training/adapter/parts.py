"""The adapter's pieces: a tiny `CLIPVisionModelWithProjection` image encoder and the
`CLIPImageProcessor` that feeds it, the adapter's layers attached to a frozen UNet (diffusers' own
`ImageProjection` and `IPAdapterAttnProcessor2_0`), and the state-dict layout `load_ip_adapter`
reads back: one `ip-adapter.safetensors` with `image_proj.*` and `ip_adapter.*` keys, next to an
`image_encoder` folder."""

from pathlib import Path

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline, UNet2DConditionModel
from diffusers.models.attention_processor import IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0
from PIL import Image
from safetensors.torch import save_file
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "models" / "adapters" / "shapes-ip-adapter"
SHAPES_MODEL = ROOT / "models" / "shapes" / "model"
WEIGHT_NAME = "ip-adapter.safetensors"
ENCODER_FOLDER = "image_encoder"
SIDE = 64
EMBED_DIM = 64
"""The image encoder's projection width: the image embedding `ImageProjection` turns into tokens."""
IMAGE_TOKENS = 4
"""What diffusers' loader assumes for a plain IP-Adapter (`proj.weight` in `image_proj`)."""
_OPENAI_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
_OPENAI_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def build_encoder(width: int = 96, layers: int = 3) -> CLIPVisionModelWithProjection:
    """A random-init CLIP vision tower for 64×64 pictures: 8×8 patches (64 tokens and the class token)."""
    config = CLIPVisionConfig(
        image_size=SIDE,
        patch_size=8,
        hidden_size=width,
        intermediate_size=2 * width,
        num_hidden_layers=layers,
        num_attention_heads=4,
        projection_dim=EMBED_DIM,
    )
    return CLIPVisionModelWithProjection(config)


def feature_extractor() -> CLIPImageProcessor:
    """The processor `load_ip_adapter` builds when the pipeline has none (`CLIPImageProcessor(size=64,
    crop_size=64)`: shortest edge to 64, centre crop, OpenAI CLIP mean and std), saved with the encoder."""
    return CLIPImageProcessor(size=SIDE, crop_size=SIDE)


def pixels(images: list[Image.Image]) -> torch.Tensor:
    """64×64 RGB images as `feature_extractor` writes them, (N, 3, 64, 64), without its overhead."""
    array = np.stack([np.asarray(image.convert("RGB"), dtype=np.float32) / 255 for image in images])
    return torch.from_numpy((array - _OPENAI_MEAN) / _OPENAI_STD).permute(0, 3, 1, 2).contiguous()


def _processors(unet: UNet2DConditionModel) -> list[tuple[str, torch.nn.Module]]:
    """The UNet's cross-attention processors in the order the loader numbers them."""
    return [
        (name, proc) for name, proc in unet.attn_processors.items() if not name.endswith("attn1.processor")
    ]


def initial_state_dict(unet: UNet2DConditionModel, seed: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    """A fresh adapter in the loader's layout: a random `ImageProjection` and, per cross-attention
    layer, `to_k_ip` / `to_v_ip` copied from the layer's own `to_k` / `to_v` (as IP-Adapter starts)."""
    generator = torch.Generator().manual_seed(seed)
    width = unet.config.cross_attention_dim
    modules = dict(unet.named_modules())
    ip_adapter = {}
    for i, (name, _) in enumerate(_processors(unet)):
        attention = modules[name.removesuffix(".processor")]
        ip_adapter[f"{2 * i + 1}.to_k_ip.weight"] = attention.to_k.weight.detach().clone()
        ip_adapter[f"{2 * i + 1}.to_v_ip.weight"] = attention.to_v.weight.detach().clone()
    image_proj = {
        "proj.weight": torch.randn(IMAGE_TOKENS * width, EMBED_DIM, generator=generator) / EMBED_DIM**0.5,
        "proj.bias": torch.zeros(IMAGE_TOKENS * width),
        "norm.weight": torch.ones(width),
        "norm.bias": torch.zeros(width),
    }
    return {"image_proj": image_proj, "ip_adapter": ip_adapter}


def attach(
    unet: UNet2DConditionModel, state_dict: dict[str, dict[str, torch.Tensor]]
) -> list[torch.nn.Parameter]:
    """Loads the adapter into the UNet with diffusers' own loader code; returns its parameters."""
    unet._load_ip_adapter_weights([state_dict], low_cpu_mem_usage=False)
    parameters = list(unet.encoder_hid_proj.parameters())
    for _, proc in _processors(unet):
        parameters += list(proc.parameters())
    return parameters


def adapter_state_dict(unet: UNet2DConditionModel) -> dict[str, torch.Tensor]:
    """The attached adapter's weights, flat, as `ip-adapter.safetensors` holds them."""
    projection = unet.encoder_hid_proj.image_projection_layers[0]
    flat = {
        "image_proj.proj.weight": projection.image_embeds.weight,
        "image_proj.proj.bias": projection.image_embeds.bias,
        "image_proj.norm.weight": projection.norm.weight,
        "image_proj.norm.bias": projection.norm.bias,
    }
    for i, (_, proc) in enumerate(_processors(unet)):
        assert isinstance(proc, IPAdapterAttnProcessor2_0 | IPAdapterAttnProcessor)
        flat[f"ip_adapter.{2 * i + 1}.to_k_ip.weight"] = proc.to_k_ip[0].weight
        flat[f"ip_adapter.{2 * i + 1}.to_v_ip.weight"] = proc.to_v_ip[0].weight
    return {key: value.detach().float().contiguous().clone() for key, value in flat.items()}


def save(unet: UNet2DConditionModel, encoder: CLIPVisionModelWithProjection, out: Path) -> None:
    """Writes `out/ip-adapter.safetensors` and `out/image_encoder/` (model and preprocessor config)."""
    out.mkdir(parents=True, exist_ok=True)
    save_file(adapter_state_dict(unet), str(out / WEIGHT_NAME), metadata={"format": "pt"})
    encoder.save_pretrained(out / ENCODER_FOLDER, safe_serialization=True)
    feature_extractor().save_pretrained(out / ENCODER_FOLDER)


def load_pipeline(adapter: Path | None = SHIPPED, model: Path = SHAPES_MODEL) -> StableDiffusionPipeline:
    """The shapes model with DPM++ 2M Karras (the catalog's sampler) and, when given, the adapter,
    loaded exactly as a diffusers user loads one."""
    pipeline = StableDiffusionPipeline.from_pretrained(model, local_files_only=True, safety_checker=None)
    pipeline.scheduler = DPMSolverMultistepScheduler.from_config(
        pipeline.scheduler.config, use_karras_sigmas=True
    )
    pipeline.set_progress_bar_config(disable=True)
    if adapter is not None:
        pipeline.load_ip_adapter(
            str(adapter),
            subfolder="",
            weight_name=WEIGHT_NAME,
            image_encoder_folder=ENCODER_FOLDER,
            local_files_only=True,
        )
    return pipeline


def image_embeds(pipeline: StableDiffusionPipeline, images: list[Image.Image]) -> torch.Tensor:
    """The adapter's embedding of each picture, (N, EMBED_DIM), through the pipeline's own processor."""
    values = pipeline.feature_extractor(images, return_tensors="pt").pixel_values
    with torch.no_grad():
        return pipeline.image_encoder(values).image_embeds


def guided_embeds(embeds: torch.Tensor) -> list[torch.Tensor]:
    """One picture's embedding (EMBED_DIM,) as `ip_adapter_image_embeds` takes it with guidance:
    a list of one (2, 1, EMBED_DIM) tensor, the negative (zeros, as the pipeline uses) first."""
    embeds = embeds.reshape(1, 1, -1)
    return [torch.cat([torch.zeros_like(embeds), embeds])]
