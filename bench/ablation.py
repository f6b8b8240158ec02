"""`--ablate`: the worker's path with one speed-up added at a time, and what each does to the pictures.

Every variant renders the same grid (prompt, seeds, sampler); its images are compared with the first
(fp32) variant's, so a step that changes the pictures more than half precision does shows at once.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.grid import run_ours
from bench.presets import Preset
from worker.speedups import Speedup

SHARED_CALL_JOBS = (2, 4)
"""Jobs per pipeline call the ablation tries (`IMAGINE_BATCH_JOBS`), with every speed-up on."""


@dataclass(frozen=True)
class Variant:
    label: str
    dtype: str
    speedups: tuple[Speedup, ...] = ()
    sdpa: bool = True
    jobs: int = 1


def variants(device: torch.device, preset: Preset | None = None) -> list[Variant]:
    """On a GPU: fp32, then the half precision of `preset`'s family (fp16; bf16 for FLUX, whose
    activations overflow fp16) with classic attention and with SDPA, and for an fp16 family bf16
    with SDPA for comparison; on the CPU, which has no fp16, fp32 with classic attention and with
    SDPA. Then channels_last, fused QKV and compile, each added to the one before, and with all of
    them 2 and 4 jobs sharing a call. The first variant is the others' reference. "Classic
    attention" replaces the processors the loader sets (`PipelineFamily.attention_modules`):
    FLUX's transformer keeps its own, so there it is the VAE's alone."""
    cuda = device.type == "cuda"
    bf16_family = preset is not None and preset.half_precision == torch.bfloat16
    half = ("bf16" if bf16_family else "fp16") if cuda else "fp32"
    chosen = [Variant("fp32", "fp32")] if cuda else []
    chosen += [Variant(f"{half}, classic attention", half, sdpa=False), Variant(f"{half}, SDPA", half)]
    if cuda and not bf16_family:
        chosen.append(Variant("bf16, SDPA", "bf16"))
    added: tuple[Speedup, ...] = ()
    for speedup in Speedup:
        added = (*added, speedup)
        chosen.append(Variant(f"{half}, SDPA + {' + '.join(added)}", half, added))
    everything = chosen[-1]
    for jobs in SHARED_CALL_JOBS:
        chosen.append(Variant(f"{everything.label} ({jobs} jobs per call)", half, added, jobs=jobs))
    return chosen


def ablate(
    folder: Path,
    preset: Preset,
    device: torch.device,
    runs: int,
    warmup: int,
    *,
    rows: list[int] | None = None,
) -> list[dict]:
    """Each variant's figures (only those at the 1-based places `rows`, if given): seconds per grid,
    images per second, the speed-up over the variant before, and the mean and largest pixel
    difference (0–255) from the first variant's grid."""
    every = variants(device, preset)
    chosen = every if rows is None else [every[row - 1] for row in rows]
    figures: list[dict] = []
    reference: list[Image.Image] | None = None
    for variant in chosen:
        # compile happens during the first untimed grid, as the worker's warm-up does it at start
        result = run_ours(
            folder,
            preset,
            device,
            runs,
            max(warmup, 1),
            dtype=variant.dtype,
            speedups=variant.speedups,
            sdpa=variant.sdpa,
            jobs=variant.jobs,
        )
        reference = reference or result.images
        mean, largest = pixel_difference(reference, result.images)
        figures.append(
            {
                "variant": variant.label,
                "seconds_per_grid": result.median,
                "images_per_second": len(result.images) / result.median,
                "speedup_over_previous": figures[-1]["seconds_per_grid"] / result.median if figures else None,
                "pixel_difference_mean": mean,
                "pixel_difference_max": largest,
            }
        )
    return figures


def pixel_difference(expected: list[Image.Image], actual: list[Image.Image]) -> tuple[float, int]:
    """The mean and the largest absolute difference between the grids' pixels, in 0–255."""
    differences = [
        np.abs(np.asarray(a.convert("RGB"), dtype=np.int16) - np.asarray(b.convert("RGB"), dtype=np.int16))
        for a, b in zip(expected, actual, strict=True)
    ]
    return float(np.mean(differences)), int(np.max(differences))


def table(name: str, size: int, steps: int, rows: list[dict]) -> list[str]:
    lines = [
        "",
        f"ablation, {name}: {size}² · {steps} steps · ours, one change added at a time",
        f"  {'variant':68}{'s/grid':>9}{'images/s':>10}{'× prev':>8}{'Δ px mean':>11}{'Δ px max':>10}",
    ]
    for row in rows:
        gain = row["speedup_over_previous"]
        lines.append(
            f"  {row['variant']:68}{row['seconds_per_grid']:>9.3f}{row['images_per_second']:>10.2f}"
            f"{'' if gain is None else f'{gain:.2f}':>8}{row['pixel_difference_mean']:>11.2f}"
            f"{row['pixel_difference_max']:>10d}"
        )
    return lines
