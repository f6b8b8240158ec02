"""How well `shapes-2x` upscales, through the worker's own path (`worker.superres`).

`python -m training.superres.evaluate` prints, on held-out scenes (captions never trained on): the
PSNR against the true 2× render, the model's and Lanczos's; what `training.shapes.measure` reads in
each picture; then, on pictures the shapes model draws, whether the upscale reads as its input;
and the time per upscale, and how far tiled upscaling is from one call on the whole image.
"""

import argparse
import json
import time
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline
from PIL import Image

from models.builtins import SHIPPED
from models.catalog import load_catalog
from training.shapes.measure import accuracy, read
from training.shapes.scenes import render
from training.shapes.scoring import held_out_scenes
from training.superres.data import held_out_pairs, psnr
from worker.superres import SuperResolution


def scene_figures(upscaler: SuperResolution, count: int) -> dict[str, Any]:
    """Mean PSNR (dB) against the true 2× render, and the measured accuracy of each picture."""
    pairs = held_out_pairs(count)
    ours = [upscaler.upscale(low) for _, low, _ in pairs]
    lanczos = [low.resize(high.size, Image.Resampling.LANCZOS) for _, low, high in pairs]
    highs = [high for _, _, high in pairs]
    scenes = [scene for scene, _, _ in pairs]
    pictures = {"64×64 input": [low for _, low, _ in pairs], "true 2× render": highs}
    pictures |= {"Lanczos 2×": lanczos, upscaler.entry.name: ours}
    return {
        "scenes": count,
        "psnr_model": float(np.mean([psnr(a, b) for a, b in zip(ours, highs, strict=True)])),
        "psnr_lanczos": float(np.mean([psnr(a, b) for a, b in zip(lanczos, highs, strict=True)])),
        "accuracy": {
            name: str(accuracy(zip(scenes, images, strict=True))) for name, images in pictures.items()
        },
    }


def generated(count: int, *, first: int = 0) -> list[Image.Image]:
    """The shapes model's 64×64 pictures of held-out captions `first`, `first` + 1, … (seed i for
    caption i), drawn as the catalog sets it up: 15 steps of DPM++ 2M Karras at guidance 5."""
    pipeline = StableDiffusionPipeline.from_pretrained(str(SHIPPED["shapes"]), local_files_only=True)
    pipeline.scheduler = DPMSolverMultistepScheduler.from_config(
        pipeline.scheduler.config, use_karras_sigmas=True
    )
    pipeline.set_progress_bar_config(disable=True)
    chosen = range(first, first + count)
    captions = [scene.caption for scene in held_out_scenes(first + count)[first:]]
    seeds = [torch.Generator().manual_seed(i) for i in chosen]
    return pipeline(
        captions, height=64, width=64, num_inference_steps=15, guidance_scale=5.0, generator=seeds
    ).images


def generated_figures(upscaler: SuperResolution, count: int) -> dict[str, Any]:
    """How often the upscale of a generated picture reads exactly as the picture (every attribute),
    the model's and Lanczos's; and how often each shows what the caption asked for."""
    scenes = held_out_scenes(count)
    images = generated(count)
    upscales = {
        upscaler.entry.name: [upscaler.upscale(image) for image in images],
        "Lanczos 2×": [image.resize((128, 128), Image.Resampling.LANCZOS) for image in images],
    }
    readings = [read(image) for image in images]
    same = {
        name: sum(read(up) == reading for up, reading in zip(ups, readings, strict=True)) / count
        for name, ups in upscales.items()
    }
    pictures = {"64×64 picture": images, **upscales}
    return {
        "images": count,
        "same_reading": same,
        "accuracy": {
            name: str(accuracy(zip(scenes, found, strict=True))) for name, found in pictures.items()
        },
    }


def speed_figures(upscaler: SuperResolution) -> dict[str, Any]:
    """Seconds per 64→128 and 512→1024 upscale (default tiles), and the largest difference (of 255)
    between the tiled 512→1024 upscale and one call on the whole image."""
    scene = held_out_scenes(1)[0]
    small, large = render(scene, 64), render(scene, 512)
    upscaler.upscale(small)  # warm-up
    began = time.perf_counter()
    for _ in range(10):
        upscaler.upscale(small)
    per_small = (time.perf_counter() - began) / 10
    began = time.perf_counter()
    tiled = upscaler.upscale(large)
    per_large = time.perf_counter() - began
    whole = upscaler.upscale(large, tile=large.width)
    difference = np.abs(np.asarray(tiled, dtype=int) - np.asarray(whole, dtype=int))
    return {
        "seconds_64_to_128": per_small,
        "seconds_512_to_1024": per_large,
        "tiled_vs_whole_max": int(difference.max()),
        "tiled_vs_whole_mean": float(difference.mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.superres.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--catalog", type=Path, default=None, help="catalog file (default: the built-in one)")
    parser.add_argument("--upscaler", default="shapes-2x")
    parser.add_argument("--scenes", type=int, default=100, help="held-out scenes")
    parser.add_argument("--generated", type=int, default=24, help="pictures the shapes model draws")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    diffusers.utils.logging.disable_progress_bar()
    upscaler = SuperResolution(load_catalog(args.catalog).upscaler(args.upscaler), device=torch.device("cpu"))
    figures = {
        "upscaler": args.upscaler,
        "held_out": scene_figures(upscaler, args.scenes),
        "generated": generated_figures(upscaler, args.generated),
        "speed": speed_figures(upscaler),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    held, made, speed = figures["held_out"], figures["generated"], figures["speed"]
    print(
        f"{args.upscaler}, {held['scenes']} held-out scenes: PSNR {held['psnr_model']:.2f} dB,"
        f" Lanczos {held['psnr_lanczos']:.2f} dB (+{held['psnr_model'] - held['psnr_lanczos']:.2f} dB)"
    )
    for name, result in held["accuracy"].items():
        print(f"  {name}: {result}")
    same = ", ".join(f"{name} {share:.0%}" for name, share in made["same_reading"].items())
    print(f"{made['images']} shapes-model pictures; upscales that read as the picture: {same}")
    for name, result in made["accuracy"].items():
        print(f"  {name}: {result}")
    print(
        f"{speed['seconds_64_to_128'] * 1000:.0f} ms per 64→128, {speed['seconds_512_to_1024']:.2f} s per"
        f" 512→1024; tiled vs whole: max {speed['tiled_vs_whole_max']}/255,"
        f" mean {speed['tiled_vs_whole_mean']:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
