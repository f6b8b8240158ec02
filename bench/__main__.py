"""`python -m bench`: the worker's generate path against plain diffusers, and the queue's overhead.

    .venv/bin/python -m bench [--preset tiny|shapes|sd15|sdxl|flux-schnell|flux-dev|all]
                              [--runs N] [--warmup N] [--queue-jobs N] [--ablate [--rows 1,3,7]]
    .venv/bin/python -m bench soak [--jobs N] [--members N] [--seed N] [--faults all|none|LIST] [--json]
    .venv/bin/python -m bench latency [--prompts N]
    .venv/bin/python -m bench api [--clients N] [--requests N] [--warmup N] [--keys N] [--json]

Prints a table (or `--json`); bench/README.md says what each figure means.
"""

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.argv[1:2] in (["soak"], ["latency"], ["api"]):
    # The soak, the latency and the API benchmarks drive separate processes: none needs nor waits
    # for torch and diffusers.
    if sys.argv[1] == "soak":
        from bench.soak import main as separate
    elif sys.argv[1] == "latency":
        from bench.latency import main as separate
    else:
        from bench.api import main as separate

    sys.exit(separate(sys.argv[2:]))

import diffusers
import torch
import transformers

from bench import ablation
from bench.grid import PathResult, denoiser_flops, denoiser_name, peak_tflops, run_baseline, run_ours
from bench.presets import PRESETS, Preset, save_preset
from bench.queue import QueueResult, measure_queue
from jobs import limits
from models.families import FAMILY_DEFAULTS


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["soak"]:
        from bench.soak import main as soak_main

        return soak_main(argv[1:])
    if argv[:1] == ["latency"]:
        from bench.latency import main as latency_main

        return latency_main(argv[1:])
    if argv[:1] == ["api"]:
        from bench.api import main as api_main

        return api_main(argv[1:])
    args = _parser().parse_args(argv)
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    names = list(PRESETS) if args.preset == "all" else [args.preset]
    if device.type == "cpu":
        smoke = bool(args.size and args.steps)
        # FLUX's weights alone take 67 GB in fp32, whatever --size says: never on a CPU.
        runnable = {name for name, p in PRESETS.items() if not p.needs_gpu or (smoke and p.cpu_smoke)}
        if args.preset == "all":
            names = [name for name in names if name in runnable]
        elif args.preset not in runnable:
            smoke_hint = " or give --size and --steps for a smoke check (e.g. --size 64 --steps 1)"
            print(
                f"the {args.preset} preset needs a CUDA GPU (one grid takes minutes on a CPU"
                + ("" if PRESETS[args.preset].cpu_smoke else ", and its weights take 67 GB in fp32")
                + "); use --preset tiny"
                + (smoke_hint if PRESETS[args.preset].cpu_smoke else ""),
                file=sys.stderr,
            )
            return 2
    for name in names:
        count = len(ablation.variants(device, PRESETS[name]))
        if args.rows and args.rows[-1] > count:
            print(f"--rows: this device has {count} variants for {name}", file=sys.stderr)
            return 2
    report: dict[str, Any] = {"device": _device_name(device), "presets": {}}
    for name in names:
        preset = PRESETS[name]
        preset = dataclasses.replace(preset, size=args.size or preset.size, steps=args.steps or preset.steps)
        report["presets"][name] = _grid(
            preset,
            device,
            args.runs,
            args.warmup,
            ours_first=args.ours_first,
            ablate=args.ablate,
            rows=args.rows,
        )
    if args.queue_jobs:
        report["queue"] = _queue(measure_queue(args.queue_jobs))
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0


def _grid(
    preset: Preset,
    device: torch.device,
    runs: int,
    warmup: int,
    *,
    ours_first: bool,
    ablate: bool,
    rows: list[int] | None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"imagine-bench-{preset.name}-") as scratch:
        folder = save_preset(preset, Path(scratch) / preset.name, device)
        # Classifier-free guidance runs the prompt and the negative as one batch: 2 × 4 latents;
        # FLUX's distilled guidance, 4.
        guidance = preset.catalog_overrides.get("guidance", FAMILY_DEFAULTS[preset.family].guidance)
        batch = limits.GRID_IMAGES * (2 if preset.pipeline.classifier_free(guidance) else 1)
        flops_per_call = denoiser_flops(folder, preset.size, batch)
        denoiser = denoiser_name(folder)
        if ours_first:  # to check that the order does not favour either path
            ours = run_ours(folder, preset, device, runs, warmup)
            baseline = run_baseline(folder, preset, device, runs, warmup)
        else:
            baseline = run_baseline(folder, preset, device, runs, warmup)
            ours = run_ours(folder, preset, device, runs, warmup)
        variants = ablation.ablate(folder, preset, device, runs, warmup, rows=rows) if ablate else None
    peak = peak_tflops(device)
    per_grid = None if flops_per_call is None else flops_per_call * preset.steps
    figures = {
        "size": preset.size,
        "steps": preset.steps,
        "denoiser": denoiser,
        "batch": batch,
        "unet_tflop_per_call": None if flops_per_call is None else flops_per_call / 1e12,
        "device_peak_tflops": peak,
        "baseline": _path(baseline, per_grid, peak),
        "ours": _path(ours, per_grid, peak),
    }
    figures["ratio_ours_over_baseline"] = ours.median / baseline.median
    if variants is not None:
        figures["ablation"] = variants
    return figures


def _path(result: PathResult, unet_flops_per_grid: float | None, peak: float | None) -> dict[str, Any]:
    """`unet_*`: the denoiser's figures (the UNet's, or the transformer's)."""
    known = unet_flops_per_grid is not None and result.unet_seconds
    achieved = unet_flops_per_grid / result.unet_seconds / 1e12 if known else None
    return {
        "seconds_per_grid": result.median,
        "runs": result.seconds,
        "images_per_second": limits.GRID_IMAGES / result.median,
        "peak_memory_gib": None if result.peak_bytes is None else result.peak_bytes / 2**30,
        "unet_calls": result.unet_calls,
        "unet_seconds": result.unet_seconds,
        "unet_tflops": achieved,
        "unet_fraction_of_peak": achieved / peak if achieved and peak else None,
    }


def _queue(result: QueueResult) -> dict[str, Any]:
    return {
        "jobs": len(result.to_started),
        "enqueue_to_started_ms": _percentiles(result.to_started),
        "done_to_readable_ms": _percentiles(result.to_readable),
        "worker_ms": _percentiles(result.worker_seconds),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, max(0, -(-99 * len(ms) // 100) - 1))]  # nearest rank
    return {"p50": statistics.median(ms), "p99": p99, "max": ms[-1]}


def _table(report: dict[str, Any]) -> str:
    lines = [f"device: {report['device']}"]
    for name, figures in report["presets"].items():
        denoiser = figures.get("denoiser", "UNet")
        column = f"{denoiser} TFLOP/s"
        width = max(14, len(column) + 2)
        lines += [
            "",
            f"{name}: {figures['size']}² · {figures['steps']} steps · 4 images per grid · {denoiser}"
            f" {_num(figures['unet_tflop_per_call'], '.4g', ' TFLOP')} per call"
            f" (batch {figures.get('batch', 8)}) · device peak"
            f" {_num(figures['device_peak_tflops'], '.0f', ' TFLOP/s')}",
            f"  {'':9}{'s/grid':>9}{'images/s':>10}{'peak mem':>11}{column:>{width}}{'of peak':>9}",
        ]
        for path in ("baseline", "ours"):
            p = figures[path]
            lines.append(
                f"  {path:9}{p['seconds_per_grid']:>9.3f}{p['images_per_second']:>10.2f}"
                f"{_num(p['peak_memory_gib'], '.2f', ' GiB'):>11}{_num(p['unet_tflops'], '.3g'):>{width}}"
                f"{_num(p['unet_fraction_of_peak'], '.1%'):>9}"
            )
        lines.append(
            f"  ours / baseline: {figures['ratio_ours_over_baseline']:.3f} (seconds per grid, median)"
        )
        if "ablation" in figures:
            lines += ablation.table(name, figures["size"], figures["steps"], figures["ablation"])
    if "queue" in report:
        queue = report["queue"]
        lines += ["", f"queue overhead, tiny model, {queue['jobs']} jobs one after another:"]
        for key, label in (
            ("enqueue_to_started_ms", "enqueue → started"),
            ("done_to_readable_ms", "done → result readable"),
            ("worker_ms", "(worker's own time per job)"),
        ):
            q = queue[key]
            lines.append(
                f"  {label:30} p50 {q['p50']:7.1f} ms · p99 {q['p99']:7.1f} ms · max {q['max']:7.1f} ms"
            )
    return "\n".join(lines)


def _num(value: float | None, spec: str, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return f"CPU, {torch.get_num_threads()} threads (torch {torch.__version__}); no CUDA"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.splitlines()[0],
        epilog="Also: `python -m bench soak --help`, `python -m bench latency --help`,"
        " `python -m bench api --help`.",
    )
    parser.add_argument("--preset", choices=[*PRESETS, "all"], default="tiny")
    parser.add_argument("--runs", type=int, default=5, help="timed grids per path (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed grids per path first")
    parser.add_argument("--queue-jobs", type=int, default=200, help="jobs for the queue overhead; 0 skips it")
    parser.add_argument("--size", type=int, help="override the preset's width and height (smoke checks)")
    parser.add_argument("--steps", type=int, help="override the preset's step count (smoke checks)")
    parser.add_argument("--ours-first", action="store_true", help="run ours before the baseline")
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="also run ours adding one speed-up at a time",
    )
    parser.add_argument(
        "--rows",
        type=_rows,
        help="with --ablate: only these variants, by their 1-based place in the full list (e.g. 2,3,6)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    return parser


def _rows(text: str) -> list[int]:
    try:
        rows = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a list of row numbers such as 2,3,6") from None
    if not rows or rows[0] < 1:
        raise argparse.ArgumentTypeError("row numbers start at 1")
    return rows


if __name__ == "__main__":
    sys.exit(main())
