"""`tiny-flux2-klein`: FLUX.2 klein's architecture in miniature."""

import torch
from diffusers import (
    AutoencoderKLFlux2,
    FlowMatchEulerDiscreteScheduler,
    Flux2KleinPipeline,
    Flux2Transformer2DModel,
)

from models.tiny.parts import TINY_SIZE
from models.tiny.qwen import qwen_tokenizer, tiny_qwen3_causal

KLEIN_NOISE_SCHEDULE = {"shift": 3.0, "use_dynamic_shifting": True}
"""FLUX.2 klein's flow-matching schedule: its pipeline computes the shift (`mu`) from the image's
token count and the number of steps."""

_ENCODER_LAYERS = 27
"""The pipeline reads Qwen3's hidden states after layers 9, 18 and 27 side by side: the tiny
encoder has that many layers (narrow ones), so the real indices apply."""


def build_tiny_flux2_klein(seed: int = 0) -> Flux2KleinPipeline:
    """FLUX.2 klein's architecture in miniature, random weights: a transformer with one
    double-stream and one single-stream block over three of Qwen3's hidden layers side by side,
    without a guidance embedding (klein is guidance-free when step-distilled and uses real
    classifier-free guidance otherwise: this one is the base, `is_distilled=False`), and FLUX.2's
    VAE with 32 latent channels, packed in 2×2 patches and batch-normalised.

    The VAE downscales 4× and the latents are patched 2×2, so sizes are multiples of 8; native
    64×64.
    """
    text_width = 16
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tokenizer = qwen_tokenizer(model_max_length=512)
        text_encoder = tiny_qwen3_causal(tokenizer, width=text_width, layers=_ENCODER_LAYERS)
        transformer = Flux2Transformer2DModel(
            in_channels=32 * 4,
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=3 * text_width,
            axes_dims_rope=(4, 4, 4, 4),
            guidance_embeds=False,
        )
        vae = AutoencoderKLFlux2(
            down_block_types=("DownEncoderBlock2D",) * 3,
            up_block_types=("UpDecoderBlock2D",) * 3,
            block_out_channels=(8, 16, 32),
            layers_per_block=1,
            latent_channels=32,
            norm_num_groups=8,
            sample_size=TINY_SIZE,
        )
    return Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**KLEIN_NOISE_SCHEDULE),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        is_distilled=False,
    )
