"""Speed-ups a worker can apply to a loaded model, each a switch of its own.

None is on by default: `python -m bench --ablate` measures each one's effect on seconds per grid
and on the pictures, and bench/README.md records which ones a GPU gains from. The attention is
always SDPA (`models.loader`), and half precision is the `dtype` setting.
"""

import logging
import time
from collections.abc import Collection

import torch

from jobs.prompt import PromptPart
from jobs.specs import Generation
from models.loader import LoadedModel
from worker.engine import Engine
from worker.speedups import Speedup

log = logging.getLogger(__name__)

COMPILED_GRAPHS_LIMIT = 64
"""UNet graphs a worker may compile (all models, sizes and jobs per call) before shapes run eager."""

WARM_UP_STEPS = 2
"""Denoising steps of each warm-up grid: compiling depends on the tensors' shapes, not on the steps."""


def accelerate(model: LoadedModel, speedups: Collection[Speedup]) -> None:
    """Applies `speedups` in place to the modules both of the model's pipelines share."""
    pipe = model.text2img
    denoiser = model.pipeline.denoiser(pipe)
    if Speedup.CHANNELS_LAST in speedups:
        denoiser.to(memory_format=torch.channels_last)
        pipe.vae.to(memory_format=torch.channels_last)
    if Speedup.FUSED_QKV in speedups:
        pipe.fuse_qkv_projections()
    if Speedup.COMPILE in speedups:
        # One graph per model and input shape (size × jobs per call); past dynamo's limit (8 by
        # default) new shapes would silently run uncompiled.
        dynamo = torch._dynamo.config
        dynamo.recompile_limit = max(dynamo.recompile_limit, COMPILED_GRAPHS_LIMIT)
        # 1×1 convolutions (the UNet's attention projections in SD1.5) as matrix products.
        torch._inductor.config.conv_1x1_as_mm = True
        # The forward only, in place: the img2img pipeline, holding the same UNet, runs it too, and
        # module hooks (the benchmark's timers) stay outside the graph. The VAE stays eager: it
        # decodes once per grid, where the UNet runs at every step.
        denoiser.forward = torch.compile(denoiser.forward, fullgraph=True, dynamic=False)


def warm_up(engine: Engine, sizes: Collection[tuple[int, int]], *, jobs: int = 1) -> None:
    """Renders short grids at each size (width, height), one call for each number of jobs a call
    may share (1 to `jobs`), so a compiled UNet has all its graphs before the first member's job
    arrives rather than during it."""
    defaults = engine.model.defaults
    for width, height in sizes:
        for count in range(1, jobs + 1):
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
            engine.imagine_together([(generation, lambda step, total, latents: None)] * count)
            seconds = time.monotonic() - began
            together = f" ({count} jobs per call)" if jobs > 1 else ""
            log.info(
                "warmed up %s at %dx%d%s in %.1f s", engine.model.entry.name, width, height, together, seconds
            )
