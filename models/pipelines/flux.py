"""FLUX.1 (dev, schnell and their fine-tunes): a rectified-flow transformer on T5 token embeddings
plus CLIP's pooled embedding, guided by a distilled guidance embedding rather than a negative pass.
Its latents are packed into 2×2 patches while denoising."""

import torch
from diffusers import (
    DiffusionPipeline,
    FluxImg2ImgPipeline,
    FluxInpaintPipeline,
    FluxPipeline,
    FluxTransformer2DModel,
)

from jobs.attention import emphasised, plain
from models.pipelines.base import Encoded, PromptWindow, TransformerFamily
from models.pipelines.emphasis import WeightedReader

_LONGEST_T5_PROMPT = 512
"""Tokens FluxPipeline lets T5 read at most (FLUX.1-dev was trained with 512; schnell with 256)."""


class Flux(TransformerFamily):
    text2img = FluxPipeline
    img2img = FluxImg2ImgPipeline
    inpaint = FluxInpaintPipeline
    denoiser_file = FluxTransformer2DModel
    negative_prompts = False
    emphasis = True  # on T5's tokens; CLIP's pooled embedding reads the plain words

    def classifier_free(self, guidance: float) -> bool:
        return False  # `guidance` is the distilled embedding's scale: one pass per step

    def prompt_window(self, pipe: DiffusionPipeline) -> PromptWindow:
        return PromptWindow.of(pipe.tokenizer_2, _LONGEST_T5_PROMPT)

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        device, window = pipe._execution_device, self.prompt_window(pipe).length
        embeds, pooled, _ = pipe.encode_prompt(
            prompt=plain(text),
            prompt_2=None,
            device=device,
            num_images_per_prompt=1,
            max_sequence_length=window,
        )
        if emphasised(text):
            reader = WeightedReader(pipe.tokenizer_2, pipe.text_encoder_2, device, window=window)
            embeds = reader.tokens(text).to(embeds.dtype)
        return Encoded(embeds, pooled), None

    def spatial_latents(
        self, pipe: DiffusionPipeline, latents: torch.Tensor, width: int, height: int
    ) -> torch.Tensor:
        return FluxPipeline._unpack_latents(latents, height, width, pipe.vae_scale_factor)
