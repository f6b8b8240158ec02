"""Stable Diffusion 1.x, 2.x and SD-Turbo: a UNet on one CLIP text encoder's token embeddings."""

from typing import Any

from diffusers import (
    DiffusionPipeline,
    StableDiffusionImg2ImgPipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
)

from models.pipelines.base import Encoded, PipelineFamily
from models.pipelines.emphasis import WeightedReader, read


class StableDiffusion(PipelineFamily):
    text2img = StableDiffusionPipeline
    img2img = StableDiffusionImg2ImgPipeline
    inpaint = StableDiffusionInpaintPipeline
    ships_safety_checker = True
    emphasis = True
    chunks_long_prompts = True

    def load_options(self) -> dict[str, Any]:
        # No safety checker in the pipeline: the worker runs it (or a classifier) as its own step,
        # only for jobs that ask for a check (see models.safety).
        return {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        reader = WeightedReader(pipe.tokenizer, pipe.text_encoder, pipe._execution_device)
        return read([reader], text), read([reader], negative or "") if with_negative else None
