"""Runs one loaded model's pipelines: a job's four images in one batched call (several jobs' in one
call when they share its settings), or img2img."""

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
from diffusers import AutoencoderKL, DiffusionPipeline
from PIL import Image

from jobs import limits
from jobs.specs import Generation, LoraUse
from models.catalog import LoraEntry
from models.loader import LoadedModel
from models.pipelines import Encoded
from models.safety import ImageChecker
from worker.conditioning import condition
from worker.errors import AdapterNotServedError
from worker.loras import LoraSlots
from worker.masks import Canvas
from worker.preview import LatentPreviewer
from worker.safety import SafetyChecks
from worker.schedulers import SchedulerCache
from worker.stopping import denoised, noise_level, stop_step
from worker.tiling import seamless

if TYPE_CHECKING:  # spandrel, which it needs, is only on workers whose catalog names an upscaler
    from models.captioning import Captioner
    from models.image_adapters import ImageAdapter
    from worker.superres import SuperResolution

StepCallback = Callable[[int, int, torch.Tensor], None]
"""Called after each denoising step with (step, total steps, latents)."""


@dataclass(frozen=True)
class Style:
    """Style references for a call: their images' mean adapter embedding (weighted, where the prompt
    weighs them), at the adapter's scale."""

    embedding: torch.Tensor
    scale: float


@dataclass(frozen=True)
class Render:
    images: list[Image.Image]
    warnings: tuple[str, ...]


SharedCallKey = tuple[str, int, int, int, str, float, bool, int, tuple[LoraUse, ...]]


def shared_call_key(generation: Generation) -> SharedCallKey:
    """What generations must have in common for their images to come from one pipeline call: the
    prompts, negatives, seeds and chaos of each may differ; their LoRAs and weights may not."""
    g = generation
    return (g.model, g.width, g.height, g.steps, g.sampler, g.guidance, g.tile, g.stop, g.loras)


@dataclass(frozen=True)
class _Part:
    """One job's share of a pipeline call."""

    generation: Generation
    count: int
    on_step: StepCallback


class Engine:
    """One resident model and the settings of how it is run."""

    def __init__(
        self,
        model: LoadedModel,
        *,
        vae_tile_pixels: int,
        safety: SafetyChecks | None = None,
        loras: Mapping[str, LoraEntry] | None = None,
        loras_resident: int = 8,
        upscaler: "SuperResolution | None" = None,
        captioner: "Captioner | None" = None,
        adapter: "ImageAdapter | None" = None,
    ) -> None:
        self.model = model
        self.upscaler = upscaler
        """The super-resolution model upscales start from (`CatalogEntry.upscaler`); None: Lanczos."""
        self.captioner = captioner
        """The image-to-text model `/describe` uses for this model (`CatalogEntry.captioner`)."""
        self.adapter = adapter
        """The image-prompt adapter `--sref` and `/blend` use (`CatalogEntry.adapter`), loaded in."""
        self.safety = SafetyChecks() if safety is None else safety  # shared by the worker's engines
        self.loras = LoraSlots(model.text2img, loras or {}, resident=loras_resident)
        """The catalog's LoRAs, loaded into this model as jobs ask for them."""
        self.previewer = LatentPreviewer(model.defaults.latent_rgb_factors, model.defaults.latent_rgb_bias)
        self._schedulers = SchedulerCache(dict(model.text2img.scheduler.config))
        self._vae_tile_pixels = vae_tile_pixels

    def safety_checker(self) -> ImageChecker | None:
        """The NSFW checker for this model's images (loaded on first use); None when there is none."""
        return self.safety.checker(self.model)

    def style(self, images: Sequence[Image.Image], style_weight: int, shares: Sequence[float] = ()) -> Style:
        """`images` as one style reference at `--sw style_weight`, for `imagine` and `refine`: their
        embeddings averaged, weighted by `shares` when given (`--sref <link>::2`)."""
        if self.adapter is None:
            raise AdapterNotServedError(
                f"the model `{self.model.entry.name}` has no image adapter on this worker"
            )
        embeds = self.adapter.embeds(images)
        if shares:
            weights = embeds.new_tensor(shares)
            embed = torch.tensordot(weights / weights.sum(), embeds, dims=1)
        else:
            embed = embeds.mean(dim=0)
        return Style(embed, self.adapter.scale(style_weight))

    def imagine(self, generation: Generation, on_step: StepCallback, style: Style | None = None) -> Render:
        """The four grid images, seeds s…s+3, in one batched pipeline call; after `style` if given."""
        return self.imagine_together([(generation, on_step)], style)[0]

    def imagine_together(
        self, jobs: Sequence[tuple[Generation, StepCallback]], style: Style | None = None
    ) -> list[Render]:
        """Each job's four grid images, all in one batched pipeline call; the generations must share
        their `shared_call_key`. Each job's callback sees its own images' latents."""
        first = jobs[0][0]
        if any(shared_call_key(generation) != shared_call_key(first) for generation, _ in jobs):
            raise ValueError("only generations with the same shared_call_key can be rendered together")
        steps = max(first.steps, self.model.pipeline.min_steps)
        renders = self._run(
            self.model.text2img,
            [_Part(generation, limits.GRID_IMAGES, on_step) for generation, on_step in jobs],
            {"width": first.width, "height": first.height, "num_inference_steps": steps},
            size=(first.width, first.height),
            style=style,
        )
        if steps == first.steps:
            return renders
        note = f"`--steps {first.steps}` ran as {steps}: `{first.model}` needs at least {steps} steps"
        return [replace(render, warnings=(*render.warnings, note)) for render in renders]

    def enlarged(self, image: Image.Image, size: tuple[int, int]) -> Image.Image:
        """`image` at `size`: through the upscaler when there is one (then resized, should its scale
        not land on `size`), else a Lanczos resize."""
        if self.upscaler is not None:
            image = self.upscaler.upscale(image)
        if image.size == size:
            return image
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)

    def refine(
        self,
        generation: Generation,
        inits: Sequence[Image.Image],
        strength: float,
        on_step: StepCallback,
        style: Style | None = None,
    ) -> Render:
        """An img2img image from each of `inits` (all at the output size), denoised by `strength`;
        after `style` if given."""
        # img2img runs int(steps × strength) steps: make sure that is at least one.
        steps = max(generation.steps, math.ceil(1 / strength))
        size = inits[0].size
        (render,) = self._run(
            self.model.img2img,
            [_Part(generation, len(inits), on_step)],
            {
                "image": [init.convert("RGB") for init in inits],
                "strength": strength,
                "num_inference_steps": steps,
                **self.model.pipeline.img2img_kwargs(*size),
            },
            size=size,
            style=style,
        )
        return render

    def inpaint(self, generation: Generation, canvas: Canvas, count: int, on_step: StepCallback) -> Render:
        """`count` images of `canvas` repainted where its mask is (from noise: what was there shows
        only through the rest of the picture), each laid over the canvas by its feathered alpha."""
        width, height = canvas.image.size
        (render,) = self._run(
            self.model.inpaint,
            [_Part(generation, count, on_step)],
            {
                "image": [canvas.image] * count,
                "mask_image": [canvas.mask] * count,
                "strength": 1.0,
                "num_inference_steps": max(generation.steps, self.model.pipeline.min_steps),
                "width": width,
                "height": height,
            },
            size=canvas.image.size,
        )
        return replace(render, images=[canvas.laid_over(image) for image in render.images])

    def _run(
        self,
        pipe: DiffusionPipeline,
        parts: list[_Part],
        call: dict[str, Any],
        *,
        size: tuple[int, int],
        style: Style | None = None,
    ) -> list[Render]:
        """One pipeline call making images of `size` (width, height) for every part, after `style`
        (through the adapter, active for this call only) when given."""
        generation = parts[0].generation  # the parts share size, sampler, guidance, tiling and stop
        pipe.scheduler = self._schedulers.get(generation.sampler)
        width, height = size
        with (
            torch.inference_mode(),
            self.loras.active(generation.loras),  # the text encoders' LoRA layers too
            seamless(self.model.pipeline.denoiser(pipe), pipe.vae, enabled=generation.tile),
            _vae_decoding(pipe.vae, tiles=width * height > self._vae_tile_pixels, slices=len(parts) > 1),
            self.adapter.active(style.scale) if style and self.adapter else nullcontext(),
        ):
            conditionings = [
                condition(pipe, self.model.pipeline, part.generation, part.count) for part in parts
            ]
            family = self.model.pipeline
            # The parts share their guidance: each has a negative encoding, or none has.
            prompts = [conditioning.prompt for conditioning in conditionings]
            negatives = [part.negative for part in conditionings if part.negative is not None]
            # Chunked encodings go into one batch with their negatives: all as long as the longest.
            length = (
                max(encoded.length for encoded in prompts + negatives) if prompts[0].filler is not None else 0
            )
            embeddings = family.call_kwargs(
                Encoded.stacked(prompts, length), Encoded.stacked(negatives, length) if negatives else None
            )

            previous: list[torch.Tensor] = []  # the latents one step back, for `--stop`

            def report(
                pipeline: DiffusionPipeline, index: int, _: Any, tensors: dict[str, Any]
            ) -> dict[str, Any]:
                done, last = index + 1, stop_step(pipeline.num_timesteps, generation.stop)
                if done == last < pipeline.num_timesteps:
                    # Decode the image these steps point to; the pipeline skips the rest.
                    scheduler = pipeline.scheduler
                    # img2img runs the end of the schedule: where this call's steps are in it.
                    at = len(scheduler.timesteps) - pipeline.num_timesteps + done
                    before, after = noise_level(scheduler, at - 1), noise_level(scheduler, at)
                    tensors["latents"] = denoised(previous[0], tensors["latents"], before, after)
                    pipeline._interrupt = True
                previous[:] = [tensors["latents"]]
                spatial = family.spatial_latents(pipeline, tensors["latents"], width, height)
                latents = spatial.split([part.count for part in parts])
                for part, own in zip(parts, latents, strict=True):
                    part.on_step(done, last, own)
                return tensors

            if style and self.adapter:
                guided = generation.guidance > 1 and pipe.unet.config.time_cond_proj_dim is None
                count = sum(part.count for part in parts)
                call = {**call, **self.adapter.call_kwargs(style.embedding, count, guided=guided)}
            output = pipe(
                **embeddings,
                **call,
                **family.guidance_kwargs(generation.guidance),
                generator=[
                    torch.Generator().manual_seed(seed)
                    for part in parts
                    for seed in part.generation.seeds[: part.count]
                ],
                callback_on_step_end=report,
                callback_on_step_end_tensor_inputs=["latents"],
                output_type="pil",
            )
        renders, start = [], 0
        for part, conditioning in zip(parts, conditionings, strict=True):
            images = list(output.images[start : start + part.count])
            renders.append(Render(images=images, warnings=conditioning.warnings))
            start += part.count
        return renders


@contextmanager
def _vae_decoding(vae: AutoencoderKL, *, tiles: bool, slices: bool) -> Iterator[None]:
    """For this call only: encodes and decodes large images tile by tile (`tiles`), and decodes a
    batch one image at a time (`slices`), so a call shared by several jobs needs no more VAE
    memory than one job alone."""
    if tiles:
        vae.enable_tiling()
    if slices:
        vae.enable_slicing()
    try:
        yield
    finally:
        vae.disable_tiling()
        vae.disable_slicing()
