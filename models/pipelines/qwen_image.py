"""Qwen-Image: a 20 B MMDiT on Qwen2.5-VL's last hidden states (the prompt read inside a
description template the pipeline then drops), with real classifier-free guidance (`true_cfg`).
Its latents are Wan 2.1's VAE's (one frame), packed into 2×2 patches while denoising."""

from typing import Any

import torch
from diffusers import (
    AutoencoderKLQwenImage,
    DiffusionPipeline,
    QwenImageImg2ImgPipeline,
    QwenImageInpaintPipeline,
    QwenImagePipeline,
)

from models.pipelines.base import Encoded, PromptWindow, TransformerFamily

_LONGEST_PROMPT = 1024
"""Tokens of the prompt QwenImagePipeline reads after its template (its most)."""


class QwenImage(TransformerFamily):
    text2img = QwenImagePipeline
    img2img = QwenImageImg2ImgPipeline
    inpaint = QwenImageInpaintPipeline
    vae = AutoencoderKLQwenImage
    min_steps = 2  # its schedule is stretched to end at σ = 0.02, which one step cannot do

    def attention_modules(self, pipe: DiffusionPipeline) -> list[torch.nn.Module]:
        return []  # the transformer's processors apply its RoPE; the VAE's attention is its own

    def prompt_window(self, pipe: DiffusionPipeline) -> PromptWindow:
        # The template is dropped before the window is counted: all of it is the prompt's.
        return PromptWindow(pipe.tokenizer, _LONGEST_PROMPT, 0)

    def guidance_kwargs(self, guidance: float) -> dict[str, Any]:
        # `true_cfg_scale` is the classifier-free scale; `guidance_scale` would be a distilled
        # embedding's, which Qwen-Image has not.
        return {"true_cfg_scale": guidance, "guidance_scale": None}

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        device = pipe._execution_device
        encoded = _encode(pipe, text, device)
        # The pipeline runs its negative pass only when it is given a negative; without `--no`,
        # a space is the unconditional one, as in Qwen's own examples.
        return encoded, _encode(pipe, negative or " ", device) if with_negative else None

    def call_kwargs(self, prompt: Encoded, negative: Encoded | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "prompt_embeds": prompt.sequence,
            "prompt_embeds_mask": _long(prompt),
            "max_sequence_length": _LONGEST_PROMPT,  # else it cuts the embeddings to 512
        }
        if negative is not None:
            kwargs["negative_prompt_embeds"] = negative.sequence
            kwargs["negative_prompt_embeds_mask"] = _long(negative)
        return kwargs

    def spatial_latents(
        self, pipe: DiffusionPipeline, latents: torch.Tensor, width: int, height: int
    ) -> torch.Tensor:
        frames = QwenImagePipeline._unpack_latents(latents, height, width, pipe.vae_scale_factor)
        return frames[:, :, 0]  # (batch, channels, 1 frame, height, width)


def _encode(pipe: DiffusionPipeline, text: str, device: torch.device) -> Encoded:
    embeds, mask = pipe.encode_prompt(prompt=text, device=device, max_sequence_length=_LONGEST_PROMPT)
    full = torch.ones(embeds.shape[:2], dtype=torch.bool, device=embeds.device)
    return Encoded(embeds, mask=full if mask is None else mask.bool())


def _long(encoded: Encoded) -> torch.Tensor:
    assert encoded.mask is not None
    return encoded.mask.long()
