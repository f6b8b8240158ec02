"""What the tiny models are built from: a byte-level tokenizer that needs no download, small text
encoders and VAEs, and the noise schedules of the real models they miniaturise."""

from typing import Any

from diffusers import AutoencoderKL
from transformers import CLIPTextConfig, CLIPTokenizer, T5Config, T5EncoderModel
from transformers.convert_slow_tokenizer import bytes_to_unicode

TINY_SIZE = 64
"""Native width and height in pixels."""
SD_NOISE_SCHEDULE = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
}
"""The noise schedule SD1.5 and SDXL base were trained with (their scheduler_config.json)."""

_BOS = "<|startoftext|>"
_EOS = "<|endoftext|>"


def byte_level_tokenizer(model_max_length: int = 77) -> CLIPTokenizer:
    """A CLIP tokenizer that needs no download: one token per byte (no BPE merges).

    The vocabulary is the 256 byte symbols, their end-of-word (`</w>`) forms and the two
    special tokens, 514 ids in all.
    """
    symbols = list(bytes_to_unicode().values())
    tokens = [*symbols, *(symbol + "</w>" for symbol in symbols), _BOS, _EOS]
    vocab = {token: i for i, token in enumerate(tokens)}
    # Without model_max_length the pipeline's padding fails ("int too big to convert").
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=model_max_length)


def small_text_config(
    tokenizer: CLIPTokenizer, *, width: int, intermediate: int, layers: int, heads: int
) -> CLIPTextConfig:
    """A small CLIP text encoder's config over `tokenizer`'s vocabulary and window."""
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=width,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=tokenizer.model_max_length,
        projection_dim=width,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


FLUX_NOISE_SCHEDULE = {
    "shift": 3.0,
    "use_dynamic_shifting": True,
    "base_shift": 0.5,
    "max_shift": 1.15,
    "base_image_seq_len": 256,
    "max_image_seq_len": 4096,
}
"""FLUX.1-dev's flow-matching schedule (its scheduler_config.json): the timestep shift grows with
the image's token count, from `base_shift` at 256 tokens to `max_shift` at 4096."""


def tiny_vae(*, latent_channels: int, **flow: Any) -> AutoencoderKL:
    """The tiny models' VAE (3 blocks of 8/16/32 channels, 4× downscale): SD's 4 latent channels,
    or the flow families' 16 with their shift and scale (`flow`)."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(8, 16, 32),
        layers_per_block=1,
        latent_channels=latent_channels,
        norm_num_groups=8,
        sample_size=TINY_SIZE,
        **flow,
    )


def tiny_flow_vae(*, scaling_factor: float, shift_factor: float) -> AutoencoderKL:
    """A 16-channel VAE as the flow families have, with their shift and scale, and no quant convs."""
    return tiny_vae(
        latent_channels=16,
        scaling_factor=scaling_factor,
        shift_factor=shift_factor,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )


def tiny_t5(tokenizer: CLIPTokenizer, width: int) -> T5EncoderModel:
    return T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=width,
            d_kv=8,
            d_ff=2 * width,
            num_layers=2,
            num_heads=4,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
