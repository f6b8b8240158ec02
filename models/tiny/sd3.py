"""`tiny-sd3`: SD3's architecture in miniature."""

import torch
from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
from transformers import CLIPTextModelWithProjection

from models.tiny.parts import TINY_SIZE, byte_level_tokenizer, small_text_config, tiny_flow_vae, tiny_t5


def build_tiny_sd3(seed: int = 0) -> StableDiffusion3Pipeline:
    """SD3's architecture in miniature, random weights: an MMDiT with one joint block over two CLIP
    encoders (with projections: their pooled embeddings, side by side) and T5, and a VAE with
    SD3's 16 latent channels, shift and scale. The VAE downscales 4× and the transformer takes 2×2
    patches, so sizes are multiples of 8; native 64×64. T5's window is longer than CLIP's, as in
    SD3 (256 and 77 tokens)."""
    clip_width, t5_width = 32, 64  # T5's embeddings are as wide as both CLIPs' side by side
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformer = SD3Transformer2DModel(
            sample_size=TINY_SIZE // 4,
            patch_size=2,
            in_channels=16,
            out_channels=16,
            num_layers=1,
            attention_head_dim=8,
            num_attention_heads=2,
            joint_attention_dim=t5_width,
            caption_projection_dim=16,
            pooled_projection_dim=2 * clip_width,
            pos_embed_max_size=TINY_SIZE // 2,  # patches of a 2× upscale: 64 px × 2 / 4 / 2
        )
        vae = tiny_flow_vae(scaling_factor=1.5305, shift_factor=0.0609)
        clip_tokenizer = byte_level_tokenizer()
        config = small_text_config(clip_tokenizer, width=clip_width, intermediate=64, layers=2, heads=4)
        text_encoder = CLIPTextModelWithProjection(config)
        text_encoder_2 = CLIPTextModelWithProjection(config)
        t5_tokenizer = byte_level_tokenizer(model_max_length=256)
        text_encoder_3 = tiny_t5(t5_tokenizer, t5_width)
    return StableDiffusion3Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),  # SD3's own schedule
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=clip_tokenizer,
        text_encoder_3=text_encoder_3,
        tokenizer_3=t5_tokenizer,
        transformer=transformer,
    )
