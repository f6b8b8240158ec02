"""Z-Image (Turbo and base): a single-stream flow transformer on a Qwen3 decoder's hidden states,
as many as the prompt has tokens (no padding), with classifier-free guidance scaled its own way.
Its latents are FLUX.1's VAE's, unpacked."""

from typing import Any

import torch
from diffusers import DiffusionPipeline, ZImageImg2ImgPipeline, ZImageInpaintPipeline, ZImagePipeline

from models.pipelines.base import Encoded, PromptWindow, TransformerFamily
from models.pipelines.chat import chat_window

_LONGEST_PROMPT = 512
"""Tokens ZImagePipeline lets Qwen3 read (chat template included)."""


class ZImage(TransformerFamily):
    text2img = ZImagePipeline
    img2img = ZImageImg2ImgPipeline
    inpaint = ZImageInpaintPipeline

    def prompt_window(self, pipe: DiffusionPipeline) -> PromptWindow:
        return chat_window(pipe.tokenizer, _LONGEST_PROMPT, enable_thinking=True)

    def guidance_kwargs(self, guidance: float) -> dict[str, Any]:
        # Z-Image's guidance is `prompt + g × (prompt - negative)`, which is the usual scale less
        # one: at 1 (or 0, as the turbo model runs) there is no negative pass.
        return {"guidance_scale": max(0.0, guidance - 1.0)}

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        [embeds], negatives = pipe.encode_prompt(
            prompt=text,
            device=pipe._execution_device,
            do_classifier_free_guidance=with_negative,
            negative_prompt=negative or "",
            max_sequence_length=_LONGEST_PROMPT,
        )
        return _unpadded(embeds), _unpadded(negatives[0]) if with_negative else None

    def call_kwargs(self, prompt: Encoded, negative: Encoded | None) -> dict[str, Any]:
        # The transformer takes one tensor per image, each as long as its prompt.
        kwargs: dict[str, Any] = {"prompt_embeds": _per_image(prompt)}
        if negative is not None:
            kwargs["negative_prompt_embeds"] = _per_image(negative)
        return kwargs


def _unpadded(embeds: torch.Tensor) -> Encoded:
    """One prompt's (tokens, width) embeddings, every token its own."""
    every = torch.ones(1, embeds.shape[0], dtype=torch.bool, device=embeds.device)
    return Encoded(embeds.unsqueeze(0), mask=every)


def _per_image(encoded: Encoded) -> list[torch.Tensor]:
    assert encoded.mask is not None
    return [sequence[mask] for sequence, mask in zip(encoded.sequence, encoded.mask, strict=True)]
