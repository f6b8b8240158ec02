"""`tiny-sdxl`: SDXL's architecture in miniature."""

import torch
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTextModelWithProjection

from models.tiny.parts import SD_NOISE_SCHEDULE, TINY_SIZE, byte_level_tokenizer, small_text_config

_TEXT_WIDTH = 16  # each encoder's; the UNet's cross-attention reads both side by side
_TIME_EMBED = 8


def build_tiny_sdxl(seed: int = 0) -> StableDiffusionXLPipeline:
    """SDXL's architecture in miniature, random weights: a UNet (channels 16/32, one layer per
    block, linear-projection cross-attention in the inner block) conditioned as SDXL's is, on two
    CLIP encoders' token embeddings side by side and on the text-time embedding (the second
    encoder's pooled projection and the six size and crop ids); two text encoders of 2 layers of
    width 16 over the byte-level vocabulary; a VAE of 3 blocks of 8/16/16 channels (4× downscale).
    Native 64×64. The same `seed` gives the same weights; the global RNG is left as it was.
    """
    tokenizer = byte_level_tokenizer()
    text_config = small_text_config(tokenizer, width=_TEXT_WIDTH, intermediate=32, layers=2, heads=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=TINY_SIZE // 4,
            in_channels=4,
            out_channels=4,
            layers_per_block=1,
            block_out_channels=(16, 32),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4),
            norm_num_groups=8,
            use_linear_projection=True,
            cross_attention_dim=2 * _TEXT_WIDTH,
            addition_embed_type="text_time",
            addition_time_embed_dim=_TIME_EMBED,
            # the second encoder's pooled projection and six time ids (sizes and crop), each embedded
            projection_class_embeddings_input_dim=_TEXT_WIDTH + 6 * _TIME_EMBED,
        )
        vae = AutoencoderKL(
            down_block_types=("DownEncoderBlock2D",) * 3,
            up_block_types=("UpDecoderBlock2D",) * 3,
            block_out_channels=(8, 16, 16),
            layers_per_block=1,
            latent_channels=4,
            norm_num_groups=8,
            sample_size=TINY_SIZE,
        )
        text_encoder = CLIPTextModel(text_config)
        text_encoder_2 = CLIPTextModelWithProjection(text_config)
    return StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=byte_level_tokenizer(),
        unet=unet,
        scheduler=EulerDiscreteScheduler(**SD_NOISE_SCHEDULE, steps_offset=1),
    )
