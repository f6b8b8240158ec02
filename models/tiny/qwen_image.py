"""`tiny-qwen-image`: Qwen-Image's architecture in miniature."""

import torch
from diffusers import (
    AutoencoderKLQwenImage,
    FlowMatchEulerDiscreteScheduler,
    QwenImagePipeline,
    QwenImageTransformer2DModel,
)

from models.tiny.qwen import qwen_tokenizer, tiny_qwen25_vl

QWEN_IMAGE_NOISE_SCHEDULE = {
    "shift": 1.0,
    "use_dynamic_shifting": True,
    "base_shift": 0.5,
    "max_shift": 0.9,
    "base_image_seq_len": 256,
    "max_image_seq_len": 8192,
    "shift_terminal": 0.02,
    "time_shift_type": "exponential",
}
"""Qwen-Image's flow-matching schedule (its scheduler_config.json): a resolution-dependent shift
from 0.5 at 256 tokens to 0.9 at 8192, and a terminal sigma of 0.02."""

_LONGEST_PROMPT = 1024
_TEMPLATE_TOKENS = 34
"""QwenImagePipeline reads 1024 of the prompt's tokens after its 34-token template."""


def build_tiny_qwen_image(seed: int = 0) -> QwenImagePipeline:
    """Qwen-Image's architecture in miniature, random weights: an MMDiT with one block over the
    last hidden states of Qwen2.5-VL (vision tower included, as the checkpoints carry it), which
    reads the prompt inside the pipeline's description template, and Qwen-Image's VAE (Wan 2.1's
    causal 3-D VAE, 16 latent channels normalised by per-channel means and deviations).

    The VAE downscales 4× and the latents are packed in 2×2 patches, so sizes are multiples of 8;
    native 64×64. The template tokenizes to the 34 tokens the pipeline drops, as with Qwen's own.
    """
    text_width = 32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tokenizer = qwen_tokenizer(model_max_length=_LONGEST_PROMPT + _TEMPLATE_TOKENS)
        text_encoder = tiny_qwen25_vl(tokenizer, width=text_width)
        transformer = QwenImageTransformer2DModel(
            in_channels=16 * 4,
            out_channels=16,
            num_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=text_width,
            axes_dims_rope=(4, 6, 6),
        )
        vae = AutoencoderKLQwenImage(
            base_dim=8, dim_mult=[1, 2, 2], num_res_blocks=1, temperal_downsample=[False, False]
        )
    return QwenImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_NOISE_SCHEDULE),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
