"""`tiny-z-image`: Z-Image's architecture in miniature."""

import torch
from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline, ZImageTransformer2DModel

from models.tiny.parts import tiny_flow_vae
from models.tiny.qwen import qwen_tokenizer, tiny_qwen3

Z_IMAGE_NOISE_SCHEDULE = {"shift": 3.0, "use_dynamic_shifting": False}
"""Z-Image-Turbo's flow-matching schedule (its scheduler_config.json): a fixed shift of 3."""


def build_tiny_z_image(seed: int = 0) -> ZImagePipeline:
    """Z-Image's architecture in miniature, random weights: a single-stream transformer (one
    refiner layer each for the noise and the caption, one main layer) over the second-to-last
    hidden states of a Qwen3 decoder, which reads the prompt in Qwen's chat template, and a VAE
    with FLUX.1's 16 latent channels, shift and scale (Z-Image uses FLUX.1's VAE).

    The VAE downscales 4× and the transformer takes 2×2 patches, so sizes are multiples of 8;
    native 64×64. The prompt's embeddings are as long as its tokens (no padding), as in Z-Image.
    """
    text_width = 32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tokenizer = qwen_tokenizer(model_max_length=512)
        text_encoder = tiny_qwen3(tokenizer, width=text_width, layers=2)
        transformer = ZImageTransformer2DModel(
            in_channels=16,
            dim=32,
            n_layers=1,
            n_refiner_layers=1,
            n_heads=2,
            n_kv_heads=2,
            cap_feat_dim=text_width,
            axes_dims=[4, 6, 6],
            axes_lens=[1024, 64, 64],
        )
        vae = tiny_flow_vae(scaling_factor=0.3611, shift_factor=0.1159)
    return ZImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**Z_IMAGE_NOISE_SCHEDULE),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
