"""The job functions a worker runs, one per operation. Only these are on its allow-list."""

import io
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import torch
from PIL import Image, ImageOps
from pydantic import ValidationError
from rq import get_current_job
from rq.job import Job
from rq.timeouts import JobTimeoutException

from broker.artifacts import ArtifactExpiredError, image_name
from broker.images import tile_grid
from broker.uploads import UploadError, read_image
from jobs import limits
from jobs.events import ArtifactRef, Done, Progress, Started
from jobs.image_prompts import img2img_strength
from jobs.resolve import image_size
from jobs.sizing import aspect_of
from jobs.specs import (
    JOB_SPEC,
    BlendSpec,
    DescribeSpec,
    FromImageSpec,
    ImagineSpec,
    InpaintSpec,
    JobSpec,
    PanSpec,
    RegionSpec,
    RerollSpec,
    Safety,
    SquareSpec,
    UploadRef,
    UpscaleSpec,
    VarySpec,
    ZoomSpec,
)
from models.safety import ImageChecker
from worker import batching, runtime
from worker.checks import check_fits, check_pixels
from worker.engine import Engine, Render
from worker.errors import InvalidJobError, ModelNotServedError, SourceExpiredError
from worker.loras import check_loras
from worker.masks import mask_canvas, outpaint_canvas, region_canvas
from worker.safety import Screened, screen, screen_uploads

log = logging.getLogger(__name__)


def imagine(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, ImagineSpec)


def blend(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, BlendSpec)


def reroll(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, RerollSpec)


def upscale(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, UpscaleSpec)


def vary(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, VarySpec)


def zoom(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, ZoomSpec)


def pan(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, PanSpec)


def square(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, SquareSpec)


def region(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, RegionSpec)


def inpaint(spec: dict[str, Any]) -> dict[str, Any]:
    return _perform(spec, InpaintSpec)


def describe(spec: dict[str, Any]) -> dict[str, Any]:
    """`/describe`: the image goes through the job's NSFW policy, then the model's captioner writes
    the prompts, each with the image's aspect ratio. The image is stored again as the job's own,
    for the result to show."""
    job = _validate(spec, DescribeSpec)
    state = runtime.current()
    if state.events.is_done(job.job_id):
        return {"job_id": job.job_id, "already_done": True}
    engine = state.engine(job.model)
    if engine.captioner is None:
        raise ModelNotServedError(f"the model `{job.model}` has no captioner on this worker")
    state.events.publish(
        Started(job_id=job.job_id, worker=_worker_name(), attempt=_count_attempt(get_current_job()))
    )
    began = time.monotonic()
    (image,) = _uploads((job.image,))
    notes = screen_uploads([image], _checker(job, engine), job.safety)
    width, height = aspect_of(*image.size)
    aspect = f" --ar {width}:{height}" if width != height else ""
    prompts = tuple(
        f"{text}{aspect}" for text in engine.captioner.describe(image, limits.DESCRIBE_PROMPTS, job.seed)
    )
    done = Done(
        job_id=job.job_id,
        images=(state.artifacts.put_image(job.job_id, image_name(1), image),),
        seeds=(),
        warnings=notes,
        seconds=round(time.monotonic() - began, 3),
        prompts=prompts,
    )
    state.events.publish_done(done)
    return done.model_dump(mode="json", exclude={"at"})


def _perform(raw: dict[str, Any], expected: type[JobSpec]) -> dict[str, Any]:
    spec = _validate(raw, expected)
    state = runtime.current()
    if state.events.is_done(spec.job_id):
        return {"job_id": spec.job_id, "already_done": True}  # a retry after the result was announced
    engine = state.engine(spec.generation.model)
    entry = engine.model.entry
    check_fits(spec, entry.profile())  # before anything is announced or rendered
    check_loras(spec.generation.loras, engine.loras.served, entry.name, entry.family.value)
    batch = batching.current()
    rendered = batch.take(spec.job_id) if batch else None  # made by an earlier job's shared call
    if rendered is None:
        begun = _begin(spec, engine, get_current_job(), batch)
        riders = batch.riders(spec.job_id) if batch else []
        if riders and batching.shareable(spec):
            rendered = _render_shared(spec, begun, riders, engine, batch)
        else:
            rendered = batching.Rendered(_render(spec, engine, begun.progress), begun.began)
    checker = _checker(spec, engine)
    screened = screen(rendered.render.images, checker, spec.safety)
    done = _store(spec, rendered.render, screened, time.monotonic() - rendered.began)
    state.events.publish_done(done)
    return done.model_dump(mode="json", exclude={"at"})


@dataclass(frozen=True)
class _Begun:
    progress: "_ProgressReporter"
    began: float


def _begin(spec: JobSpec, engine: Engine, job: Job | None, batch: batching.Batch | None) -> _Begun:
    """Announces the job's start (once, though a shared call may have done it) and readies its
    progress reports."""
    if batch is None or spec.job_id not in batch.started:
        runtime.current().events.publish(
            Started(job_id=spec.job_id, worker=_worker_name(), attempt=_count_attempt(job))
        )
    began = time.monotonic()
    # Loaded before the images are made, so a checker that cannot load fails the job at once.
    checker = _checker(spec, engine)
    # A blocked image must not show through the previews either: a job that can block gets none.
    can_block = spec.safety is Safety.BLOCK and checker is not None
    progress = _ProgressReporter(spec.job_id, engine, runtime.current().previews, with_preview=not can_block)
    return _Begun(progress, began)


def _checker(spec: JobSpec, engine: Engine) -> ImageChecker | None:
    """The NSFW checker the job's images go through (loaded once per engine); None for `--safety off`."""
    return engine.safety_checker() if spec.safety is not Safety.OFF else None


def _render_shared(
    spec: batching.TextSpec,
    begun: _Begun,
    riders: list[batching.Member],
    engine: Engine,
    batch: batching.Batch,
) -> batching.Rendered:
    """The job's images and its riders' in one call; the riders' are kept for their own runs. If
    the call fails (say, out of memory for the larger batch), the job renders alone."""
    batch.shared = True
    parts = [(spec, begun)]
    for rider in riders:
        if runtime.current().events.is_done(rider.spec.job_id):
            continue
        try:
            parts.append((rider.spec, _begin(rider.spec, engine, rider.job, None)))
        except Exception:  # the rider fails on its own run, not this job's
            log.warning("job %s cannot join the shared call", rider.job.id, exc_info=True)
        batch.started.add(rider.job.id)
    try:
        renders = engine.imagine_together([(part.generation, run.progress) for part, run in parts])
    except JobTimeoutException:
        raise
    except Exception:
        log.warning("the call shared by %d jobs failed; each renders alone", len(parts), exc_info=True)
        return batching.Rendered(engine.imagine(spec.generation, begun.progress), begun.began)
    for (part, run), render in zip(parts[1:], renders[1:], strict=True):
        batch.keep(part.job_id, batching.Rendered(render, run.began))
    log.info("rendered %d jobs in one call", len(parts))
    return batching.Rendered(renders[0], begun.began)


def _validate(raw: dict[str, Any], expected: type[JobSpec]) -> JobSpec:
    try:
        spec = JOB_SPEC.validate_python(raw)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
        raise InvalidJobError(f"the job's description is not valid ({problems})") from error
    if not isinstance(spec, expected):
        raise InvalidJobError(
            f"a {spec.op.value} job was sent to the {expected.model_fields['op'].default} task"
        )
    return spec


def _render(spec: JobSpec, engine: Engine, progress: "_ProgressReporter") -> Render:
    generation = spec.generation
    match spec:
        case UpscaleSpec():
            width, height = image_size(spec)
            init = engine.enlarged(_source_image(spec, engine), (width, height))
            bigger = generation.model_copy(update={"width": width, "height": height})
            return engine.refine(bigger, [init], spec.denoise, progress)
        case VarySpec():
            # At the spec's size, which was checked: img2img renders at its init image's size.
            size = (generation.width, generation.height)
            init = _source_image(spec, engine).resize(size, Image.Resampling.LANCZOS)
            return engine.refine(generation, [init] * len(generation.seeds), spec.denoise, progress)
        case ZoomSpec() | PanSpec() | SquareSpec():
            canvas = outpaint_canvas(_source_image(spec, engine), spec)
            return engine.inpaint(generation, canvas, len(generation.seeds), progress)
        case RegionSpec():
            canvas = region_canvas(_source_image(spec, engine), spec)
            return engine.inpaint(generation, canvas, len(generation.seeds), progress)
        case InpaintSpec():
            (image,), notes = _given((spec.image,), spec, engine)
            (mask,) = _uploads((spec.mask,))
            canvas = mask_canvas(image, mask, spec)
            render = engine.inpaint(generation, canvas, len(generation.seeds), progress)
            return replace(render, warnings=(*notes, *render.warnings))
        case BlendSpec():
            images, notes = _given(spec.images, spec, engine)
            render = engine.imagine(generation, progress, engine.style(images, limits.STYLE_WEIGHT_DEFAULT))
            return replace(render, warnings=(*notes, *render.warnings))
        case ImagineSpec() | RerollSpec() if spec.images or spec.style_images:
            images, notes = _given(spec.images, spec, engine)
            references, style_notes = _given(spec.style_images, spec, engine)
            style = (
                engine.style(references, spec.style_weight, spec.style_image_weights) if references else None
            )
            if not images:
                render = engine.imagine(generation, progress, style)
            else:
                size = (generation.width, generation.height)
                starts = [ImageOps.fit(image, size, Image.Resampling.LANCZOS) for image in images]
                inits = [starts[i % len(starts)] for i in range(len(generation.seeds))]  # each in turn
                strength = img2img_strength(spec.image_weight)
                render = engine.refine(generation, inits, strength, progress, style)
            return replace(render, warnings=(*notes, *style_notes, *render.warnings))
        case _:
            return engine.imagine(generation, progress)


def _given(
    refs: tuple[UploadRef, ...], spec: ImagineSpec | RerollSpec | BlendSpec | InpaintSpec, engine: Engine
) -> tuple[list[Image.Image], tuple[str, ...]]:
    """The images the member gave, put through the job's NSFW policy; with the notes it adds."""
    images = _uploads(refs)
    return images, screen_uploads(images, _checker(spec, engine), spec.safety)


def _uploads(refs: tuple[UploadRef, ...]) -> list[Image.Image]:
    """The images the member gave, read again as the bot read them: the queue is not trusted."""
    artifacts, images = runtime.current().artifacts, []
    for number, ref in enumerate(refs, start=1):
        try:
            data = artifacts.upload(ref)
        except ArtifactExpiredError:
            raise SourceExpiredError(
                "the images this job starts from are no longer stored: give them again"
            ) from None
        try:
            images.append(read_image(data, max_pixels=limits.UPLOAD_STORED_SIDE**2, what=f"image {number}"))
        except UploadError as error:
            raise InvalidJobError(f"the stored {error}") from None
    return images


def _source_image(spec: FromImageSpec, engine: Engine) -> Image.Image:
    try:
        data = runtime.current().artifacts.image(spec.source.job_id, spec.source.index)
    except ArtifactExpiredError:
        raise SourceExpiredError(
            f"image {spec.source.index} of that job is no longer stored; run the prompt again"
        ) from None
    image = Image.open(io.BytesIO(data))  # reads the header only: the size, before any pixels
    # Resized to the spec's size after, so only its pixel count matters.
    what = f"the stored source image is {image.width}×{image.height}"
    check_pixels(what, image.width, image.height, engine.model.entry.profile())
    image.load()
    return image


def _store(spec: JobSpec, render: Render, screened: Screened, seconds: float) -> Done:
    artifacts = runtime.current().artifacts
    refs: list[ArtifactRef] = []
    for index, image in enumerate(screened.images, start=1):
        refs.append(artifacts.put_image(spec.job_id, image_name(index), image))
    grid_ref = None
    if len(screened.images) > 1:
        grid_ref = artifacts.put_image(spec.job_id, "grid", tile_grid(screened.images))
    seeds = spec.generation.seeds[: len(screened.images)]
    return Done(
        job_id=spec.job_id,
        images=tuple(refs),
        grid=grid_ref,
        seeds=tuple(seeds),
        warnings=spec.warnings + render.warnings,
        seconds=round(seconds, 3),
        flagged=screened.flagged,
        safety_checked=screened.checked,
    )


class _ProgressReporter:
    """Publishes a progress event a few times per job, with a latent preview unless told not to."""

    def __init__(self, job_id: str, engine: Engine, previews: int, *, with_preview: bool = True) -> None:
        self._job_id = job_id
        self._engine = engine
        self._previews = previews
        self._with_preview = with_preview

    def __call__(self, step: int, total: int, latents: torch.Tensor) -> None:
        if not self._previews or step >= total:
            return
        every = max(1, total // self._previews)
        if step % every:
            return
        runtime.current().events.publish(
            Progress(
                job_id=self._job_id,
                step=step,
                total=total,
                preview=self._engine.previewer.jpeg(latents) if self._with_preview else None,
            )
        )


def _count_attempt(job: Job | None) -> int:
    """Counts this run in the job's meta, which survives the worker that ran it before."""
    if job is None:
        return 1
    job.meta["attempts"] = job.meta.get("attempts", 0) + 1
    job.save_meta()
    return job.meta["attempts"]


def _worker_name() -> str:
    job = get_current_job()
    return (job.worker_name if job else None) or "local"
