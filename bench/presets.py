"""The models the benchmark runs: published architectures rebuilt from their configs, random weights,
and the shipped `shapes` model as it is (the offline default a CPU worker serves).

`sd15` is runwayml/stable-diffusion-v1-5 and `sdxl` is stabilityai/stable-diffusion-xl-base-1.0,
written out from their `config.json` files, so no download is needed and every layer does the
same arithmetic as in the real checkpoints. The tokenizers are the byte-level one of
`models.tiny` (token ids differ, the sequence length of 77 and so the cost do not); the text
encoders keep the real vocabulary size. Both use Euler with the published noise schedule, so the
baseline and ours run one UNet call per step (SD1.5's PNDM would make 26 calls for 25 steps).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from models.builtins import SHIPPED
from models.families import Family
from models.tiny import SD_NOISE_SCHEDULE, TINY_SIZE, build_tiny_pipeline, byte_level_tokenizer

CLIP_VOCAB = 49408


@dataclass(frozen=True)
class Preset:
    name: str
    family: Family
    size: int
    steps: int
    needs_gpu: bool
    build: Callable[[], DiffusionPipeline]
    """Builds the pipeline on the current default device (see `save_preset`)."""
    catalog_overrides: dict[str, int]
    """Overrides of the family's defaults for the production catalog entry (the tiny model's sizes)."""
    prompt: str = "a lighthouse on a cliff at dusk, oil painting"


def _scheduler() -> EulerDiscreteScheduler:
    return EulerDiscreteScheduler(**SD_NOISE_SCHEDULE, steps_offset=1, timestep_spacing="leading")


def _vae(sample_size: int, scaling_factor: float, force_upcast: bool) -> AutoencoderKL:
    # SD1.5's and SDXL's VAEs have the same shape; SDXL's is retrained, scaled differently and, as
    # published, upcast to fp32 for decoding in fp16 pipelines.
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        act_fn="silu",
        latent_channels=4,
        norm_num_groups=32,
        sample_size=sample_size,
        scaling_factor=scaling_factor,
        force_upcast=force_upcast,
    )


def _clip(tokenizer: CLIPTokenizer, cls: type, **config: object) -> torch.nn.Module:
    return cls(
        CLIPTextConfig(
            vocab_size=CLIP_VOCAB,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            **config,
        )
    )


def _clip_vit_l(tokenizer: CLIPTokenizer) -> CLIPTextModel:
    # openai/clip-vit-large-patch14's text tower: SD1.5's encoder and SDXL's first one.
    return _clip(
        tokenizer,
        CLIPTextModel,
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        hidden_act="quick_gelu",
        projection_dim=768,
    )


def build_sd15() -> StableDiffusionPipeline:
    tokenizer = byte_level_tokenizer()
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=768,
        attention_head_dim=8,
        norm_num_groups=32,
        act_fn="silu",
        flip_sin_to_cos=True,
        freq_shift=0,
        downsample_padding=1,
        mid_block_scale_factor=1,
        norm_eps=1e-5,
    )
    return StableDiffusionPipeline(
        vae=_vae(512, 0.18215, force_upcast=False),
        text_encoder=_clip_vit_l(tokenizer),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sdxl() -> StableDiffusionXLPipeline:
    tokenizer = byte_level_tokenizer()
    unet = UNet2DConditionModel(
        sample_size=128,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(320, 640, 1280),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2, 10),
        attention_head_dim=(5, 10, 20),
        cross_attention_dim=2048,
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=256,
        projection_class_embeddings_input_dim=2816,
        norm_num_groups=32,
        act_fn="silu",
        flip_sin_to_cos=True,
        freq_shift=0,
    )
    # laion/CLIP-ViT-bigG-14's text tower, with its projection (the pooled embedding SDXL adds).
    text_encoder_2 = _clip(
        tokenizer,
        CLIPTextModelWithProjection,
        hidden_size=1280,
        intermediate_size=5120,
        num_hidden_layers=32,
        num_attention_heads=20,
        hidden_act="gelu",
        projection_dim=1280,
    )
    return StableDiffusionXLPipeline(
        vae=_vae(1024, 0.13025, force_upcast=True),
        text_encoder=_clip_vit_l(tokenizer),
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=byte_level_tokenizer(),
        unet=unet,
        scheduler=_scheduler(),
        force_zeros_for_empty_prompt=True,
    )


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        "tiny",
        Family.SD15,
        TINY_SIZE,
        steps=4,
        needs_gpu=False,
        build=build_tiny_pipeline,
        catalog_overrides={
            "native_width": TINY_SIZE,
            "native_height": TINY_SIZE,
            "size_multiple": 8,
            "max_pixels": 4 * TINY_SIZE * TINY_SIZE,
        },
    ),
    "shapes": Preset(
        "shapes",
        Family.SD15,
        64,
        steps=15,
        needs_gpu=False,
        build=lambda: DiffusionPipeline.from_pretrained(str(SHIPPED["shapes"]), local_files_only=True),
        catalog_overrides={"native_width": 64, "native_height": 64, "size_multiple": 16, "max_pixels": 16384},
        prompt="two small red circles on a blue background",  # within its 20-token window
    ),
    "sd15": Preset("sd15", Family.SD15, 512, 25, needs_gpu=True, build=build_sd15, catalog_overrides={}),
    "sdxl": Preset("sdxl", Family.SDXL, 1024, 25, needs_gpu=True, build=build_sdxl, catalog_overrides={}),
}


def save_preset(preset: Preset, folder: Path, device: torch.device) -> Path:
    """Builds `preset` (random weights, initialised on `device`: much faster on a GPU) and saves it
    in the diffusers layout, fp16 on a GPU so loading reads half as much."""
    with torch.device(device), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        pipe = preset.build()
    if device.type == "cuda":
        pipe.to(torch.float16)
    pipe.save_pretrained(folder)
    del pipe
    return folder
