"""The models the benchmark runs: published architectures rebuilt from their configs, random weights,
and the shipped `shapes` model as it is (the offline default a CPU worker serves).

`sd15` is runwayml/stable-diffusion-v1-5 and `sdxl` is stabilityai/stable-diffusion-xl-base-1.0,
written out from their `config.json` files, so no download is needed and every layer does the
same arithmetic as in the real checkpoints. The tokenizers are the byte-level one of
`models.tiny.parts` (token ids differ, the sequence length of 77 and so the cost do not); the text
encoders keep the real vocabulary size. Both use Euler with the published noise schedule, so the
baseline and ours run one UNet call per step (SD1.5's PNDM would make 26 calls for 25 steps).

`flux-dev` and `flux-schnell` are black-forest-labs/FLUX.1-dev and FLUX.1-schnell, written out from
the `config.json` of each component (`transformer/`, `vae/`, `text_encoder/`, `text_encoder_2/`,
`scheduler/scheduler_config.json`) and BFL's reference settings (their model cards and the
`flux` repository's `sampling`): the same 12 B transformer (19 double-stream and 38 single-stream
blocks), schnell without the guidance embedding; FLUX's 16-channel VAE; CLIP ViT-L's text tower
(pooled embedding) and the T5 v1.1 XXL encoder (token embeddings). Both read 512 T5 tokens in dev
and 256 in schnell, as BFL runs them; schnell's schedule has no timestep shift, dev's shifts with
the image's token count. They run in bf16 on a GPU (FLUX overflows fp16).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AutoencoderKL,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    FluxPipeline,
    FluxTransformer2DModel,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
)

from models.builtins import SHIPPED
from models.families import FAMILY_DEFAULTS, Family
from models.pipelines import PIPELINES, PipelineFamily
from models.tiny.parts import FLUX_NOISE_SCHEDULE, SD_NOISE_SCHEDULE, TINY_SIZE, byte_level_tokenizer
from models.tiny.sd import build_tiny_pipeline

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
    catalog_overrides: dict[str, int | float]
    """Overrides of the family's defaults for the production catalog entry (the tiny model's sizes,
    schnell's steps and guidance)."""
    prompt: str = "a lighthouse on a cliff at dusk, oil painting"
    cpu_smoke: bool = True
    """Whether a GPU preset may run on a CPU for a smoke check (`--size`, `--steps`): not FLUX,
    whose weights alone take 67 GB in fp32 at any size."""
    baseline_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra arguments of the baseline's pipeline call, as the model's authors call it (FLUX's T5
    window: ours reads the saved tokenizer's, as the worker does)."""

    @property
    def pipeline(self) -> PipelineFamily:
        """How the worker runs the preset's family (`models.pipelines`)."""
        return PIPELINES[FAMILY_DEFAULTS[self.family].pipeline]

    @property
    def half_precision(self) -> torch.dtype:
        """The dtype the preset is saved in and both paths run in on a GPU: the family's (fp16, or
        bf16 for FLUX, whose activations overflow fp16)."""
        return self.pipeline.half_precision


def _scheduler() -> EulerDiscreteScheduler:
    return EulerDiscreteScheduler(**SD_NOISE_SCHEDULE, steps_offset=1, timestep_spacing="leading")


def _vae(
    sample_size: int, scaling_factor: float, force_upcast: bool, *, latent_channels: int = 4, **flow: Any
) -> AutoencoderKL:
    # SD1.5's, SDXL's and FLUX.1's VAEs have the same shape; SDXL's is retrained, scaled
    # differently and, as published, upcast to fp32 for decoding in fp16 pipelines; FLUX's has 16
    # latent channels and its own shift (`flow`).
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        act_fn="silu",
        latent_channels=latent_channels,
        norm_num_groups=32,
        sample_size=sample_size,
        scaling_factor=scaling_factor,
        force_upcast=force_upcast,
        **flow,
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


T5_VOCAB = 32128


def flux_transformer(*, guidance_embeds: bool) -> FluxTransformer2DModel:
    """FLUX.1's transformer, from black-forest-labs/FLUX.1-dev's and FLUX.1-schnell's
    `transformer/config.json`: identical but for `guidance_embeds` (true for dev, whose guidance is
    a distilled embedding; false for schnell). 2×2 patches of 16 latent channels in, 3072 wide
    (24 heads × 128), RoPE over (time, row, column) axes of 16, 56 and 56 dimensions."""
    return FluxTransformer2DModel(
        patch_size=1,
        in_channels=64,
        num_layers=19,
        num_single_layers=38,
        attention_head_dim=128,
        num_attention_heads=24,
        joint_attention_dim=4096,
        pooled_projection_dim=768,
        guidance_embeds=guidance_embeds,
        axes_dims_rope=(16, 56, 56),
    )


def t5_xxl_encoder(tokenizer: CLIPTokenizer) -> T5EncoderModel:
    """google/t5-v1_1-xxl's encoder, FLUX.1's `text_encoder_2/config.json`: 24 layers 4096 wide,
    64 heads of 64, gated-GELU feed-forward 10240 wide, T5's 32128-token vocabulary. The special
    token ids are the byte-level tokenizer's (T5's own are 0 and 1: the cost is the same)."""
    return T5EncoderModel(
        T5Config(
            vocab_size=T5_VOCAB,
            d_model=4096,
            d_kv=64,
            d_ff=10240,
            num_layers=24,
            num_heads=64,
            relative_attention_num_buckets=32,
            relative_attention_max_distance=128,
            feed_forward_proj="gated-gelu",
            layer_norm_epsilon=1e-6,
            dropout_rate=0.1,
            tie_word_embeddings=False,
            is_encoder_decoder=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )


def _flux_vae() -> AutoencoderKL:
    # FLUX.1's `vae/config.json` (dev's and schnell's are the same): 16 latent channels, no quant
    # convolutions, latents shifted by 0.1159 and scaled by 0.3611.
    return _vae(
        1024,
        0.3611,
        force_upcast=True,
        latent_channels=16,
        shift_factor=0.1159,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )


def _build_flux(*, dev: bool) -> FluxPipeline:
    clip_tokenizer = byte_level_tokenizer()
    # T5's window: BFL's `flux` repository samples dev with 512 tokens and schnell with 256 (its
    # `max_length`, as the schnell model card's `max_sequence_length=256`).
    t5_tokenizer = byte_level_tokenizer(model_max_length=512 if dev else 256)
    # scheduler_config.json: dev shifts the timesteps with the token count (FLUX_NOISE_SCHEDULE);
    # schnell's has shift 1.0 and no dynamic shifting.
    scheduler = (
        FlowMatchEulerDiscreteScheduler(**FLUX_NOISE_SCHEDULE)
        if dev
        else FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=False)
    )
    return FluxPipeline(
        scheduler=scheduler,
        vae=_flux_vae(),
        text_encoder=_clip_vit_l(clip_tokenizer),  # FLUX.1's `text_encoder/`: CLIP ViT-L/14's text tower
        tokenizer=clip_tokenizer,
        text_encoder_2=t5_xxl_encoder(t5_tokenizer),
        tokenizer_2=t5_tokenizer,
        transformer=flux_transformer(guidance_embeds=dev),
    )


def build_flux_dev() -> FluxPipeline:
    return _build_flux(dev=True)


def build_flux_schnell() -> FluxPipeline:
    return _build_flux(dev=False)


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
    # The family's defaults are dev's (28 steps, guidance 3.5); schnell is distilled for 1-4 steps
    # and takes no guidance (its model card: 4 steps, guidance_scale 0.0, 256 T5 tokens).
    "flux-schnell": Preset(
        "flux-schnell",
        Family.FLUX,
        1024,
        steps=4,
        needs_gpu=True,
        build=build_flux_schnell,
        catalog_overrides={"steps": 4, "guidance": 0.0},
        cpu_smoke=False,
        baseline_kwargs={"guidance_scale": 0.0, "max_sequence_length": 256},
    ),
    # dev's model card: 1024², 28 steps (the family's), guidance 3.5, 512 T5 tokens.
    "flux-dev": Preset(
        "flux-dev",
        Family.FLUX,
        1024,
        steps=28,
        needs_gpu=True,
        build=build_flux_dev,
        catalog_overrides={},
        cpu_smoke=False,
        baseline_kwargs={"guidance_scale": 3.5, "max_sequence_length": 512},
    ),
}


def save_preset(preset: Preset, folder: Path, device: torch.device) -> Path:
    """Builds `preset` (random weights, initialised on `device`: much faster on a GPU) and saves it
    in the diffusers layout, on a GPU in the family's half precision (fp16, bf16 for FLUX) so
    loading reads half as much. On a GPU the weights are created in that dtype too: FLUX's 12 B
    transformer and 4.8 B T5 would take 67 GB in fp32, 34 GB in bf16."""
    dtype = preset.half_precision if device.type == "cuda" else torch.get_default_dtype()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device), torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            pipe = preset.build()
    finally:
        torch.set_default_dtype(previous)
    if device.type == "cuda":
        pipe.to(dtype)
    pipe.save_pretrained(folder)
    del pipe
    return folder
