"""The captioner's pieces, built from configs: a word-level tokenizer over the caption vocabulary,
a ViT image processor for 64×64 scenes, and a `VisionEncoderDecoderModel` (tiny ViT encoder, tiny
GPT-2 decoder with cross-attention), plus the reading of a caption back into its attributes."""

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (
    GPT2Config,
    PreTrainedTokenizerFast,
    VisionEncoderDecoderConfig,
    VisionEncoderDecoderModel,
    ViTConfig,
    ViTImageProcessor,
)

from training.shapes.scenes import COLOURS, SHAPES, Scene, scenes

SIDE = 64
MAX_TOKENS = 20
"""Decoder positions: the longest caption is 14 words, plus the start and end tokens."""
_SPECIALS = ("[PAD]", "[UNK]", "[BOS]", "[EOS]")
_COUNTS = {"a": 1, "an": 1, "two": 2, "three": 3}
_CORPUS = 20_000
"""Scenes whose caption words make the vocabulary: every word the generator writes."""


def caption_tokenizer() -> PreTrainedTokenizerFast:
    """One token per caption word (lower-cased), an end token appended to every encoding."""
    words = sorted({word for scene in itertools.islice(scenes(0), _CORPUS) for word in scene.caption.split()})
    vocab = {token: i for i, token in enumerate([*_SPECIALS, *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="$A [EOS]", special_tokens=[("[EOS]", vocab["[EOS]"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="[PAD]",
        unk_token="[UNK]",
        bos_token="[BOS]",
        eos_token="[EOS]",
        model_max_length=MAX_TOKENS,
    )


def image_processor() -> ViTImageProcessor:
    """Resize to 64×64 and scale to −1…1, as `pixels` does for training."""
    return ViTImageProcessor(size={"height": SIDE, "width": SIDE}, image_mean=[0.5] * 3, image_std=[0.5] * 3)


def pixels(images: list[Image.Image]) -> torch.Tensor:
    """64×64 RGB images as the processor writes them, (N, 3, 64, 64) in −1…1, without its overhead."""
    array = np.stack([np.asarray(image.convert("RGB"), dtype=np.float32) for image in images])
    return torch.from_numpy(array).permute(0, 3, 1, 2) / 127.5 - 1


def build_model(tokenizer: PreTrainedTokenizerFast, width: int = 128) -> VisionEncoderDecoderModel:
    """Random-init ViT (8×8 patches, 4 layers) and GPT-2 (3 layers) of `width`, tied for generation."""
    encoder = ViTConfig(
        image_size=SIDE,
        patch_size=8,
        hidden_size=width,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=2 * width,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    decoder = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=MAX_TOKENS,
        n_embd=width,
        n_layer=3,
        n_head=4,
        n_inner=2 * width,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = tokenizer.bos_token_id
    config.pad_token_id = tokenizer.pad_token_id
    config.eos_token_id = tokenizer.eos_token_id
    model = VisionEncoderDecoderModel(config=config)
    model.generation_config.decoder_start_token_id = tokenizer.bos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.max_length = MAX_TOKENS
    return model


@dataclass(frozen=True)
class Said:
    """What a caption says, word by word; None where it says nothing (or nothing readable)."""

    count: int | None
    size: str | None
    colour: str | None
    shape: str | None
    background: str | None


def parse(caption: str) -> Said:
    """The caption's attributes: the count word first, the colour just before the shape word, the
    background colour just before "background"."""
    words = caption.lower().split()
    kinds = [i for i, word in enumerate(words) if word.rstrip("s") in SHAPES]
    shape_at = kinds[0] if kinds else None
    colour = words[shape_at - 1] if shape_at and words[shape_at - 1] in COLOURS else None
    backs = [i for i, word in enumerate(words) if word == "background" and i and words[i - 1] in COLOURS]
    return Said(
        count=_COUNTS.get(words[0]) if words else None,
        size=next((word for word in words if word in ("small", "large")), None),
        colour=colour,
        shape=words[shape_at].rstrip("s") if shape_at is not None else None,
        background=words[backs[0] - 1] if backs else None,
    )


ATTRIBUTES = ("colour", "shape", "count", "background")
"""What a caption must get right (the size and position are reported, not required)."""


def truth(scene: Scene) -> Said:
    return Said(scene.count, scene.size, scene.colour, scene.shape, scene.background)
