"""Runs one loaded model's pipelines for a job: four images in one batched call, or img2img."""

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from diffusers import AutoencoderKL, DiffusionPipeline
from PIL import Image

from jobs import limits
from jobs.specs import Generation
from models.loader import LoadedModel
from models.safety import ImageChecker
from worker.conditioning import condition
from worker.preview import LatentPreviewer
from worker.safety import SafetyChecks
from worker.schedulers import SchedulerCache
from worker.tiling import seamless

StepCallback = Callable[[int, int, torch.Tensor], None]
"""Called after each denoising step with (step, total steps, latents)."""


@dataclass(frozen=True)
class Render:
    images: list[Image.Image]
    warnings: tuple[str, ...]


class Engine:
    """One resident model and the settings of how it is run."""

    def __init__(
        self, model: LoadedModel, *, vae_tile_pixels: int, safety: SafetyChecks | None = None
    ) -> None:
        self.model = model
        self.safety = SafetyChecks() if safety is None else safety  # shared by the worker's engines
        self.previewer = LatentPreviewer(model.defaults.latent_rgb_factors, model.defaults.latent_rgb_bias)
        self._schedulers = SchedulerCache(dict(model.text2img.scheduler.config))
        self._sdxl = model.defaults.pipeline == "sdxl"
        self._vae_tile_pixels = vae_tile_pixels

    def safety_checker(self) -> ImageChecker | None:
        """The NSFW checker for this model's images (loaded on first use); None when there is none."""
        return self.safety.checker(self.model)

    def imagine(self, generation: Generation, on_step: StepCallback) -> Render:
        """The four grid images, seeds s…s+3, in one batched pipeline call."""
        return self._run(
            self.model.text2img,
            generation,
            limits.GRID_IMAGES,
            on_step,
            {
                "width": generation.width,
                "height": generation.height,
                "num_inference_steps": generation.steps,
            },
        )

    def refine(
        self, generation: Generation, init: Image.Image, strength: float, count: int, on_step: StepCallback
    ) -> Render:
        """`count` img2img images from `init` (already at the output size), denoised by `strength`."""
        # img2img runs int(steps × strength) steps: make sure that is at least one.
        steps = max(generation.steps, math.ceil(1 / strength))
        return self._run(
            self.model.img2img,
            generation,
            count,
            on_step,
            {
                "image": [init.convert("RGB")] * count,
                "strength": strength,
                "num_inference_steps": steps,
            },
        )

    def _run(
        self,
        pipe: DiffusionPipeline,
        generation: Generation,
        count: int,
        on_step: StepCallback,
        call: dict[str, Any],
    ) -> Render:
        pipe.scheduler = self._schedulers.get(generation.sampler)
        pixels = generation.width * generation.height
        with (
            torch.inference_mode(),
            seamless(pipe.unet, pipe.vae, enabled=generation.tile),
            _vae_tiling(pipe.vae, enabled=pixels > self._vae_tile_pixels),
        ):
            conditioning = condition(pipe, generation, count, sdxl=self._sdxl)

            def report(
                pipeline: DiffusionPipeline, index: int, _: Any, tensors: dict[str, Any]
            ) -> dict[str, Any]:
                on_step(index + 1, pipeline.num_timesteps, tensors["latents"])
                return tensors

            output = pipe(
                **conditioning.kwargs,
                **call,
                guidance_scale=generation.guidance,
                generator=[torch.Generator().manual_seed(seed) for seed in generation.seeds[:count]],
                callback_on_step_end=report,
                callback_on_step_end_tensor_inputs=["latents"],
                output_type="pil",
            )
        return Render(images=list(output.images), warnings=conditioning.warnings)


@contextmanager
def _vae_tiling(vae: AutoencoderKL, *, enabled: bool) -> Iterator[None]:
    """Encodes and decodes large images tile by tile, for this job only."""
    if not enabled:
        yield
        return
    vae.enable_tiling()
    try:
        yield
    finally:
        vae.disable_tiling()
