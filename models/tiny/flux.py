"""`tiny-flux`: FLUX.1's architecture in miniature."""

import torch
from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
from transformers import CLIPTextModel

from models.tiny.parts import (
    FLUX_NOISE_SCHEDULE,
    byte_level_tokenizer,
    small_text_config,
    tiny_flow_vae,
    tiny_t5,
)


def build_tiny_flux(seed: int = 0) -> FluxPipeline:
    """FLUX.1's architecture in miniature, random weights: a transformer with one double-stream and
    one single-stream block over T5 token embeddings and CLIP's pooled one, with the guidance
    embedding of FLUX.1-dev, and a VAE with FLUX's 16 latent channels and its shift and scale.

    The VAE downscales 4× and the latents are packed in 2×2 patches, so sizes are multiples of 8;
    native 64×64 (an 8×8 grid of 64 patch tokens). The T5 tokenizer is the byte-level one (`tiny`'s)
    with a longer window, as T5 reads 512 tokens where CLIP reads 77.
    """
    text_width = 32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformer = FluxTransformer2DModel(
            patch_size=1,
            in_channels=16 * 4,
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=text_width,
            pooled_projection_dim=text_width,
            guidance_embeds=True,
            axes_dims_rope=(4, 6, 6),
        )
        vae = tiny_flow_vae(scaling_factor=0.3611, shift_factor=0.1159)
        clip_tokenizer = byte_level_tokenizer()
        text_encoder = CLIPTextModel(
            small_text_config(clip_tokenizer, width=text_width, intermediate=64, layers=2, heads=4)
        )
        t5_tokenizer = byte_level_tokenizer(model_max_length=256)
        text_encoder_2 = tiny_t5(t5_tokenizer, text_width)
    return FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_NOISE_SCHEDULE),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=t5_tokenizer,
        transformer=transformer,
    )
