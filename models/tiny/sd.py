"""`tiny`: SD1.5's architecture in miniature."""

import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel

from models.tiny.parts import SD_NOISE_SCHEDULE, TINY_SIZE, byte_level_tokenizer, small_text_config, tiny_vae


def build_tiny_pipeline(seed: int = 0) -> StableDiffusionPipeline:
    """Build the tiny pipeline on the CPU; the same `seed` gives the same weights on every machine.

    UNet: channels 32/64, one layer per block, cross-attention in the outer block and the middle
    (0.8 M parameters). VAE: 3 blocks of 8/16/32 channels (0.17 M). Text encoder: 2 layers of
    width 32 over the byte-level vocabulary (36 k). The global RNG is left as it was.
    """
    tokenizer = byte_level_tokenizer()
    text_width = 32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=TINY_SIZE // 4,
            in_channels=4,
            out_channels=4,
            layers_per_block=1,
            block_out_channels=(32, 64),
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=text_width,
            attention_head_dim=8,
        )
        vae = tiny_vae(latent_channels=4)
        text_encoder = CLIPTextModel(
            small_text_config(tokenizer, width=text_width, intermediate=64, layers=2, heads=4)
        )
    # SD1.5's noise schedule, so samplers configured from it behave as on a real SD1.5 model.
    scheduler = EulerDiscreteScheduler(**SD_NOISE_SCHEDULE, steps_offset=1)
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
