"""A tiny Stable Diffusion pipeline with random weights: for tests, and the offline default model.

It has the SD1.5 architecture in miniature (UNet, KL VAE with 4 latent channels, CLIP text
encoder), so it exercises the same code paths as a real model: saved in the diffusers layout,
loaded by `models.loader`, run as text-to-image and image-to-image. Its images are coloured noise.
Sizes: native 64×64 (latents 16×16); the VAE downscales 4× and the UNet 2×, so sizes must be
multiples of 8, which the diffusers pipelines ask for anyway.
"""

import fcntl
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

TINY_SIZE = 64
"""Native width and height in pixels."""

BUILD_VERSION = "1"
"""Bump when a builtin's architecture or weights change, so cached copies are rebuilt."""

_MARKER = "imagine-builtin.txt"
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
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 3,
            up_block_types=("UpDecoderBlock2D",) * 3,
            block_out_channels=(8, 16, 32),
            layers_per_block=1,
            latent_channels=4,
            norm_num_groups=8,
            sample_size=TINY_SIZE,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=len(tokenizer),
                hidden_size=text_width,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                max_position_embeddings=tokenizer.model_max_length,
                projection_dim=text_width,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        )
    # SD1.5's noise schedule, so samplers configured from it behave as on a real SD1.5 model.
    scheduler = EulerDiscreteScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
    )
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


BUILTINS: dict[str, Callable[[], StableDiffusionPipeline]] = {"tiny": build_tiny_pipeline}


def materialize_builtin(name: str, cache_dir: Path) -> Path:
    """The folder holding builtin `name` in the diffusers layout, built and saved on first use.

    Safe with several workers sharing `cache_dir`: a lock file serialises the builders, each
    build is written to a temporary folder and renamed into place whole, and a folder without the
    current version marker (an interrupted or older build) is replaced.
    """
    build = BUILTINS.get(name)
    if build is None:
        raise ValueError(f"there is no builtin model `{name}`; builtins: {', '.join(BUILTINS)}")
    target = cache_dir / name
    if _is_current(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _is_current(target):  # another worker built it while we waited
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{name}-") as scratch:
            staging = Path(scratch) / name
            build().save_pretrained(staging)
            (staging / _MARKER).write_text(BUILD_VERSION, encoding="utf-8")
            if target.exists():
                target.rename(Path(scratch) / "outdated")  # deleted with the scratch folder
            staging.rename(target)
    return target


def _is_current(folder: Path) -> bool:
    marker = folder / _MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8") == BUILD_VERSION
