"""FLUX.2 klein (4 B and 9 B, step-distilled or base): a rectified-flow transformer on three of a
Qwen3 decoder's hidden layers side by side, with no guidance embedding: the distilled models run
without guidance, the base ones with classifier-free guidance. Its VAE has 32 latent channels,
patched 2×2, batch-normalised and packed while denoising. diffusers has no img2img pipeline for
klein: its inpaint pipeline under a mask that repaints everything is one."""

from typing import Any

import torch
from diffusers import AutoencoderKLFlux2, DiffusionPipeline, Flux2KleinInpaintPipeline, Flux2KleinPipeline
from PIL import Image

from models.pipelines.base import Encoded, PromptWindow, TransformerFamily
from models.pipelines.chat import chat_window

_LONGEST_PROMPT = 512
"""Tokens Flux2KleinPipeline lets Qwen3 read (chat template included, padded to this)."""


class Flux2Klein(TransformerFamily):
    text2img = Flux2KleinPipeline
    img2img = Flux2KleinInpaintPipeline
    inpaint = Flux2KleinInpaintPipeline
    vae = AutoencoderKLFlux2

    def prompt_window(self, pipe: DiffusionPipeline) -> PromptWindow:
        return chat_window(pipe.tokenizer, _LONGEST_PROMPT, enable_thinking=False)

    def img2img_kwargs(self, width: int, height: int) -> dict[str, Any]:
        return {**super().img2img_kwargs(width, height), "mask_image": Image.new("L", (width, height), 255)}

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        # A distilled klein ignores any negative: don't encode one for it.
        with_negative = with_negative and not pipe.config.is_distilled
        encoded = _encode(pipe, text)
        return encoded, _encode(pipe, negative or "") if with_negative else None

    def call_kwargs(self, prompt: Encoded, negative: Encoded | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"prompt_embeds": prompt.sequence}
        if negative is not None:
            kwargs["negative_prompt_embeds"] = negative.sequence
        return kwargs

    def spatial_latents(
        self, pipe: DiffusionPipeline, latents: torch.Tensor, width: int, height: int
    ) -> torch.Tensor:
        # Packed row by row: (batch, h × w, 4 × channels) → patches → (batch, channels, 2h, 2w).
        patch = pipe.vae_scale_factor * 2
        batch, _, packed = latents.shape
        patches = latents.reshape(batch, height // patch, width // patch, packed).permute(0, 3, 1, 2)
        return Flux2KleinPipeline._unpatchify_latents(patches)


def _encode(pipe: DiffusionPipeline, text: str) -> Encoded:
    embeds, _ = pipe.encode_prompt(
        prompt=text, device=pipe._execution_device, max_sequence_length=_LONGEST_PROMPT
    )
    return Encoded(embeds)
