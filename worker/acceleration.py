"""Speed-ups a worker can apply to a loaded model, each a switch of its own.

None is on by default: `python -m bench --ablate` measures each one's effect on seconds per grid
and on the pictures, and bench/README.md records which ones a GPU gains from. The attention is
always SDPA (`models.loader`), and half precision is the `dtype` setting.
"""

import logging
import time
from collections.abc import Collection
from enum import StrEnum

import torch

from jobs.prompt import PromptPart
from jobs.specs import Generation
from models.loader import LoadedModel
from worker.engine import Engine

log = logging.getLogger(__name__)

WARM_UP_STEPS = 2
"""Denoising steps of each warm-up grid: compiling depends on the tensors' shapes, not on the steps."""


class Speedup(StrEnum):
    CHANNELS_LAST = "channels_last"
    """The UNet's and VAE's convolution weights in NHWC order, which tensor-core kernels prefer."""
    FUSED_QKV = "fused_qkv"
    """One matrix multiplication for attention's query, key and value projections instead of three."""
    COMPILE = "compile"
    """`torch.compile` of the UNet, one graph per input shape, compiled by a warm-up at start."""


def accelerate(model: LoadedModel, speedups: Collection[Speedup]) -> None:
    """Applies `speedups` in place to the modules both of the model's pipelines share."""
    pipe = model.text2img
    if Speedup.CHANNELS_LAST in speedups:
        pipe.unet.to(memory_format=torch.channels_last)
        pipe.vae.to(memory_format=torch.channels_last)
    if Speedup.FUSED_QKV in speedups:
        pipe.fuse_qkv_projections()
    if Speedup.COMPILE in speedups:
        # The forward only, in place: the img2img pipeline, holding the same UNet, runs it too, and
        # module hooks (the benchmark's timers) stay outside the graph.
        pipe.unet.forward = torch.compile(pipe.unet.forward, fullgraph=True, dynamic=False)


def warm_up(engine: Engine, sizes: Collection[tuple[int, int]]) -> None:
    """Renders a short grid at each size (width, height), so a compiled UNet has its graphs before
    the first member's job arrives rather than during it."""
    defaults = engine.model.defaults
    for width, height in sizes:
        began = time.monotonic()
        generation = Generation(
            model=engine.model.entry.name,
            prompt=(PromptPart(text="warm-up"),),
            width=width,
            height=height,
            steps=WARM_UP_STEPS,
            guidance=defaults.guidance,
            sampler=defaults.sampler,
            seed=0,
        )
        engine.imagine(generation, lambda step, total, latents: None)
        seconds = time.monotonic() - began
        log.info("warmed up %s at %dx%d in %.1f s", engine.model.entry.name, width, height, seconds)
