"""SDXL and SDXL-Turbo: a UNet on two CLIP text encoders' token embeddings, plus the second
encoder's pooled embedding."""

import torch
from diffusers import (
    DiffusionPipeline,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)

from models.pipelines.base import Encoded, PipelineFamily
from models.pipelines.emphasis import WeightedReader, read


class StableDiffusionXL(PipelineFamily):
    text2img = StableDiffusionXLPipeline
    img2img = StableDiffusionXLImg2ImgPipeline
    inpaint = StableDiffusionXLInpaintPipeline
    emphasis = True
    chunks_long_prompts = True

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        device = pipe._execution_device
        readers = [
            WeightedReader(pipe.tokenizer, pipe.text_encoder, device, penultimate=True),
            WeightedReader(pipe.tokenizer_2, pipe.text_encoder_2, device, penultimate=True),
        ]
        prompt = read(readers, text, pooled_by=readers[1])
        if not with_negative:
            return prompt, None
        if not negative and pipe.config.force_zeros_for_empty_prompt:
            # SDXL was trained with zeros, not an empty prompt's encoding, as its unconditional input.
            chunk = torch.zeros_like(prompt.filler)
            return prompt, Encoded(chunk, torch.zeros_like(prompt.pooled), filler=chunk)
        return prompt, read(readers, negative or "", pooled_by=readers[1])
