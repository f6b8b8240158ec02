"""Seconds per 2×2 grid: plain diffusers (the baseline) against the worker's own generate path (ours).

Both load the same saved folder. The baseline is what a careful user writes: `from_pretrained` in
the family's half precision on a GPU (fp16; bf16 for FLUX, which overflows fp16; fp32 on the CPU,
where fp16 is unsupported), default attention, one call with `num_images_per_prompt=4` (and the
authors' call arguments, `Preset.baseline_kwargs`). Ours loads through the production loader (a
catalog entry with a `folder` source) and runs `Engine.imagine`, the function the worker's imagine
task renders a grid with, previews included. They run one after the other, never both loaded, so
each peak memory figure is that path's own.

The denoiser timed and counted is the family's (`PipelineFamily.denoiser`): the UNet of SD1.5 and
SDXL, the transformer of FLUX. The figures' names say `unet` for both (the report's keys stay put).
"""

import dataclasses
import gc
import json
import statistics
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, DiffusionPipeline, FluxTransformer2DModel, UNet2DConditionModel
from diffusers.models.attention_processor import AttnProcessor
from PIL import Image

from bench.presets import Preset
from jobs import limits
from jobs.prompt import PromptPart
from jobs.specs import Generation
from models.catalog import CatalogEntry, FolderSource
from models.loader import load_model
from worker import runtime, tasks
from worker.acceleration import accelerate
from worker.engine import Engine
from worker.settings import WorkerSettings
from worker.speedups import Speedup

# Dense fp16/bf16 tensor-core peaks (TFLOP/s, without sparsity) from NVIDIA's datasheets, matched
# against torch.cuda.get_device_name() in this order (the first substring that occurs wins).
PEAK_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H200 NVL", 835.0),
    ("H200", 989.0),  # H200 SXM
    ("H100", 989.0),  # H100 SXM ("NVIDIA H100 80GB HBM3")
    ("A100", 312.0),  # SXM and PCIe alike
    ("L40S", 362.0),
)


@dataclass(frozen=True)
class PathResult:
    seconds: list[float]
    """Per grid, timed runs only."""
    unet_seconds: float
    """Median per grid of the time spent inside denoiser (UNet or transformer) calls."""
    unet_calls: int
    """Denoiser calls per pipeline call (one per step; classifier-free guidance batches both halves)."""
    peak_bytes: int | None
    images: list[Image.Image]
    """The last grid's four images."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def peak_tflops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_TFLOPS if key in name), None)


def denoiser_name(folder: Path) -> str:
    """The denoiser saved in `folder`: "UNet" or "transformer"."""
    return "UNet" if (folder / "unet").is_dir() else "transformer"


def denoiser_flops(folder: Path, size: int, batch: int) -> int | None:
    """FLOPs of one call of the denoiser saved in `folder` (a UNet, or FLUX's transformer) at
    `size`² pixels for `batch` latents, counted by torch's FLOP counter on meta tensors (nothing is
    computed or allocated); None for a transformer of another kind."""
    from torch.utils.flop_counter import FlopCounterMode

    vae = AutoencoderKL.load_config(str(folder / "vae"))
    latent = size // 2 ** (len(vae["block_out_channels"]) - 1)
    if (folder / "unet").is_dir():
        tokens = _window(folder / "tokenizer")
        config = UNet2DConditionModel.load_config(str(folder / "unet"))
        with torch.device("meta"):
            unet = UNet2DConditionModel.from_config(config)
            sample = torch.randn(batch, unet.config.in_channels, latent, latent)
            context = torch.randn(batch, tokens, unet.config.cross_attention_dim)
            extra: dict[str, Any] = {}
            if unet.config.addition_embed_type == "text_time":
                time_ids = 6 * unet.config.addition_time_embed_dim
                pooled = unet.config.projection_class_embeddings_input_dim - time_ids
                extra["added_cond_kwargs"] = {
                    "text_embeds": torch.randn(batch, pooled),
                    "time_ids": torch.randn(batch, 6),
                }
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                unet(sample, torch.tensor(500.0), context, **extra)
        return counter.get_total_flops()
    config = FluxTransformer2DModel.load_config(str(folder / "transformer"))
    if config.get("_class_name") != FluxTransformer2DModel.__name__:
        return None
    # What FluxPipeline passes: latents packed in 2×2 patches (one token each), T5's sequence (the
    # window ours reads: the saved tokenizer's, at most 512), CLIP's pooled embedding, and the
    # (time, row, column) positions of both for RoPE.
    text = min(512, _window(folder / "tokenizer_2"))
    patches = (latent // 2) ** 2
    with torch.device("meta"):
        transformer = FluxTransformer2DModel.from_config(config)
        c = transformer.config
        extra = {"guidance": torch.full((batch,), 3.5)} if c.guidance_embeds else {}
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            transformer(
                hidden_states=torch.randn(batch, patches, c.in_channels),
                encoder_hidden_states=torch.randn(batch, text, c.joint_attention_dim),
                pooled_projections=torch.randn(batch, c.pooled_projection_dim),
                timestep=torch.full((batch,), 0.5),
                img_ids=torch.zeros(patches, 3),
                txt_ids=torch.zeros(text, 3),
                return_dict=False,
                **extra,
            )
    return counter.get_total_flops()


def _window(tokenizer: Path) -> int:
    return json.loads((tokenizer / "tokenizer_config.json").read_text())["model_max_length"]


def _denoiser(pipe: DiffusionPipeline) -> torch.nn.Module:
    """The baseline pipeline's denoiser: its UNet, or its transformer."""
    unet = getattr(pipe, "unet", None)
    return pipe.transformer if unet is None else unet


def run_baseline(folder: Path, preset: Preset, device: torch.device, runs: int, warmup: int) -> PathResult:
    with _peak_memory(device) as peak:
        dtype = preset.half_precision if device.type == "cuda" else torch.float32
        pipe = DiffusionPipeline.from_pretrained(str(folder), dtype=dtype, local_files_only=True)
        pipe.to(device)
        pipe.set_progress_bar_config(disable=True)

        def grid() -> list[Image.Image]:
            return pipe(
                preset.prompt,
                num_images_per_prompt=4,
                height=preset.size,
                width=preset.size,
                num_inference_steps=preset.steps,
                **preset.baseline_kwargs,
            ).images

        result = _time(grid, _denoiser(pipe), device, runs, warmup)
    return _with_peak(result, peak)


def run_ours(
    folder: Path,
    preset: Preset,
    device: torch.device,
    runs: int,
    warmup: int,
    *,
    dtype: str | None = None,
    speedups: Collection[Speedup] | None = None,
    sdpa: bool = True,
    jobs: int = 1,
) -> PathResult:
    """The worker's path, as a worker with these `dtype` and `speedups` settings runs it (by default,
    the `IMAGINE_*` environment's); `sdpa` False swaps the loader's SDPA attention for diffusers'
    classic one where the loader sets it (`PipelineFamily.attention_modules`: not FLUX's
    transformer, whose processors apply its RoPE), to measure what SDPA gains. With `jobs` above
    1, each call renders that many grids (seeds 4 apart) as a worker sharing a call between queued
    jobs does; the figures stay per grid, and the images are the first grid's."""
    entry = CatalogEntry(
        name=f"bench-{preset.name}",
        family=preset.family,
        source=FolderSource(path=folder),
        **preset.catalog_overrides,
    )
    settings = WorkerSettings()
    with _peak_memory(device) as peak:
        model = load_model(entry, cache_dir=folder.parent, device=device, dtype=dtype or settings.dtype)
        if not sdpa:
            for module in model.pipeline.attention_modules(model.text2img):
                module.set_attn_processor(AttnProcessor())
        accelerate(model, settings.speedups if speedups is None else speedups)
        engine = Engine(model, vae_tile_pixels=settings.vae_tile_pixels)
        defaults = model.defaults
        generation = Generation(
            model=entry.name,
            prompt=(PromptPart(text=preset.prompt),),
            width=preset.size,
            height=preset.size,
            steps=preset.steps,
            guidance=defaults.guidance,
            sampler=defaults.sampler,
            seed=1234,
        )
        # The worker's own progress reporter (latent previews, as a job makes them), publishing
        # into a sink instead of Redis.
        with _null_runtime(engine, settings.previews):
            reporter = tasks._ProgressReporter("0" * 32, engine, settings.previews)
            seeds = [generation.seed + limits.GRID_IMAGES * n for n in range(jobs)]
            grids = [(generation.model_copy(update={"seed": seed}), reporter) for seed in seeds]
            result = _time(
                lambda: engine.imagine_together(grids)[0].images,
                model.pipeline.denoiser(model.text2img),
                device,
                runs,
                warmup,
                grids_per_call=jobs,
            )
    return _with_peak(result, peak)


def _time(
    grid: Callable[[], list[Image.Image]],
    denoiser: torch.nn.Module,
    device: torch.device,
    runs: int,
    warmup: int,
    *,
    grids_per_call: int = 1,
) -> PathResult:
    """Times `grid()` (which makes `grids_per_call` grids, returning the first's images); the
    figures are per grid."""
    for _ in range(warmup):
        grid()
    seconds, unet_seconds, calls, images = [], [], 0, []
    for _ in range(runs):
        with _denoiser_timer(denoiser, device) as spans:
            _sync(device)
            began = time.perf_counter()
            images = grid()
            _sync(device)
            seconds.append((time.perf_counter() - began) / grids_per_call)
        unet_seconds.append(sum(spans()) / grids_per_call)
        calls = len(spans())
    return PathResult(seconds, statistics.median(unet_seconds), calls, None, images)


@contextmanager
def _denoiser_timer(denoiser: torch.nn.Module, device: torch.device) -> Iterator[Callable[[], list[float]]]:
    """Times each denoiser call: with CUDA events on a GPU (no synchronisation while it runs)."""
    marks: list[Any] = []

    def before(*_: Any) -> None:
        marks.append(_mark(device))

    def after(*_: Any) -> None:
        marks.append(_mark(device))

    handles = [denoiser.register_forward_pre_hook(before), denoiser.register_forward_hook(after)]

    def spans() -> list[float]:
        _sync(device)
        pairs = zip(marks[::2], marks[1::2], strict=True)
        if device.type == "cuda":
            return [start.elapsed_time(end) / 1000 for start, end in pairs]
        return [end - start for start, end in pairs]

    try:
        yield spans
    finally:
        for handle in handles:
            handle.remove()


def _mark(device: torch.device) -> Any:
    if device.type == "cuda":
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event
    return time.perf_counter()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextmanager
def _peak_memory(device: torch.device) -> Iterator[list[int | None]]:
    peak: list[int | None] = [None]
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        yield peak
        if device.type == "cuda":
            peak[0] = torch.cuda.max_memory_allocated(device)
    finally:
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()


def _with_peak(result: PathResult, peak: list[int | None]) -> PathResult:
    return dataclasses.replace(result, peak_bytes=peak[0])


class _NullEvents:
    def publish(self, event: Any) -> str:
        return "0-0"


@contextmanager
def _null_runtime(engine: Engine, previews: int) -> Iterator[None]:
    previous = runtime._current
    runtime.install(
        runtime.Runtime(engines={}, artifacts=None, events=_NullEvents(), previews=previews)  # type: ignore[arg-type]
    )
    try:
        yield
    finally:
        runtime._current = previous
