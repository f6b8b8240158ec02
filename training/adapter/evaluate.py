"""How far a picture steers the shapes model through the adapter, read back from the pixels.

`python -m training.adapter.evaluate` draws held-out prompts through the shapes model's own
pipeline (DPM++ 2M Karras, 15 steps, guidance 5, 64×64, fixed seeds) with the shipped adapter
loaded by `load_ip_adapter`, and reports:

* style reference (`--sref`): with a picture on a yellow background, how often the measured
  background is yellow and how far (RGB) it is from yellow, against the same prompts and seeds
  without the adapter, at a few adapter scales; for prompts that leave the background out and for
  prompts that name another one;
* blend (`/blend`, no prompt): "a red circle on blue" and "a green square on white", their
  embeddings averaged: how often the picture takes its background, colour and shape from each.
"""

import argparse
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import StableDiffusionPipeline
from PIL import Image

from training.adapter.parts import SHIPPED, image_embeds, load_pipeline
from training.shapes.measure import read
from training.shapes.scenes import COLOURS, Scene, render
from training.shapes.scoring import held_out_scenes

STEPS, GUIDANCE = 15, 5.0
YELLOW = np.array(COLOURS["yellow"], dtype=float)
SREF_SCENES = (
    Scene("triangle", "purple", 1, "large", "yellow", "center"),
    Scene("square", "blue", 2, "small", "yellow"),
)
"""The style references: pictures on a yellow background (what `--sref` is given)."""
BLEND_A = Scene("circle", "red", 1, "large", "blue", "center")
BLEND_B = Scene("square", "green", 1, "large", "white", "center")


def sref_images() -> list[Image.Image]:
    return [render(scene, seed=0) for scene in SREF_SCENES]


def sref_prompts(count: int) -> list[Scene]:
    """Held-out scenes with neither a yellow shape nor a yellow background."""
    chosen = [s for s in held_out_scenes(8 * count) if "yellow" not in (s.colour, s.background)]
    return chosen[:count]


def border_rgb(image: Image.Image) -> np.ndarray:
    """The median border colour: the background as `training.shapes.measure.read` takes it."""
    pixels = np.asarray(image.convert("RGB"), dtype=float)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return np.median(border, axis=0)


def generate(
    pipeline: StableDiffusionPipeline,
    prompts: list[str],
    seeds: list[int],
    embeds: list[torch.Tensor] | None,
    scale: float,
) -> list[Image.Image]:
    """One image per (prompt, seed); `embeds` one (EMBED_DIM,) image embedding per image, or none
    (the adapter at scale 0, which is the model alone)."""
    kwargs = {}
    if hasattr(pipeline.unet, "encoder_hid_proj") and pipeline.unet.encoder_hid_proj is not None:
        pipeline.set_ip_adapter_scale(scale if embeds is not None else 0.0)
        positive = torch.stack(embeds) if embeds is not None else torch.zeros(len(prompts), _width(pipeline))
        positive = positive[:, None, :]
        kwargs["ip_adapter_image_embeds"] = [torch.cat([torch.zeros_like(positive), positive])]
    images = pipeline(
        prompts,
        height=64,
        width=64,
        num_inference_steps=STEPS,
        guidance_scale=GUIDANCE,
        generator=[torch.Generator().manual_seed(seed) for seed in seeds],
        **kwargs,
    ).images
    if kwargs:
        pipeline.set_ip_adapter_scale(1.0)
    return images


def _width(pipeline: StableDiffusionPipeline) -> int:
    return pipeline.unet.encoder_hid_proj.image_projection_layers[0].image_embeds.in_features


@dataclass(frozen=True)
class Sref:
    yellow: float
    """Share of images whose measured background is yellow."""
    distance: float
    """Mean RGB distance of the measured background colour to yellow (0–441)."""
    prompt_colour: float
    """Share whose shapes still have the prompt's colour."""
    prompt_shape: float
    images: int

    def __str__(self) -> str:
        return (
            f"background yellow {self.yellow:4.0%} · distance to yellow {self.distance:5.1f} · "
            f"prompt colour kept {self.prompt_colour:4.0%} · shape kept {self.prompt_shape:4.0%} "
            f"({self.images} images)"
        )


def sref_figures(
    pipeline: StableDiffusionPipeline,
    chosen: list[Scene],
    seeds: list[int],
    scale: float | None,
    *,
    background: bool,
) -> Sref:
    """Each prompt at each seed, with the yellow references taken in turn (None: without the adapter)."""
    prompts, seed_list, scenes_list = [], [], []
    for scene in chosen:
        for seed in seeds:
            prompts.append(scene.describe(background=background))
            seed_list.append(seed)
            scenes_list.append(scene)
    embeds = None
    if scale is not None:
        references = image_embeds(pipeline, sref_images())
        embeds = [references[i % len(references)] for i in range(len(prompts))]
    images = []
    for start in range(0, len(prompts), 16):
        stop = start + 16
        images += generate(
            pipeline,
            prompts[start:stop],
            seed_list[start:stop],
            embeds[start:stop] if embeds else None,
            scale or 0.0,
        )
    readings = [read(image) for image in images]
    return Sref(
        yellow=float(np.mean([r.background == "yellow" for r in readings])),
        distance=float(np.mean([np.linalg.norm(border_rgb(image) - YELLOW) for image in images])),
        prompt_colour=float(
            np.mean([r.colour == s.colour for r, s in zip(readings, scenes_list, strict=True)])
        ),
        prompt_shape=float(np.mean([r.shape == s.shape for r, s in zip(readings, scenes_list, strict=True)])),
        images=len(images),
    )


@dataclass(frozen=True)
class Blend:
    background: Counter
    colour: Counter
    shape: Counter
    images: int

    def share(self, attribute: str, value: str | None) -> float:
        return getattr(self, attribute)[value] / max(self.images, 1)

    def describe(self, a: Scene, b: Scene) -> str:
        parts = []
        for attribute in ("background", "colour", "shape"):
            va, vb = getattr(a, attribute), getattr(b, attribute)
            share_a, share_b = self.share(attribute, va), self.share(attribute, vb)
            parts.append(f"{attribute}: A's {va} {share_a:4.0%}, B's {vb} {share_b:4.0%}")
        return " · ".join(parts) + f" ({self.images} images)"


def blend_figures(
    pipeline: StableDiffusionPipeline,
    weights: tuple[float, float] | None,
    seeds: list[int],
    scale: float,
    a: Scene = BLEND_A,
    b: Scene = BLEND_B,
    prompt: str = "",
) -> Blend:
    """Images from the weighted mean of the two pictures' embeddings (1, 0: A alone; None: no
    adapter, what the prompt alone draws), with `prompt`."""
    ea, eb = image_embeds(pipeline, [render(a, seed=0), render(b, seed=0)])
    mixed = weights[0] * ea + weights[1] * eb if weights else None
    images = []
    for start in range(0, len(seeds), 16):
        chunk = seeds[start : start + 16]
        embeds = [mixed] * len(chunk) if mixed is not None else None
        images += generate(pipeline, [prompt] * len(chunk), chunk, embeds, scale)
    readings = [read(image) for image in images]
    return Blend(
        background=Counter(r.background for r in readings),
        colour=Counter(r.colour for r in readings),
        shape=Counter(r.shape for r in readings),
        images=len(images),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.adapter.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--adapter", type=Path, default=SHIPPED, help="adapter folder (default: the shipped one)"
    )
    parser.add_argument("--prompts", type=int, default=16, help="held-out prompts for the style reference")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per prompt (blend: 8× as many)")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    began = time.monotonic()
    pipeline = load_pipeline(args.adapter)
    chosen = sref_prompts(args.prompts)
    seeds = list(range(args.seeds))
    print(f"style reference: {len(chosen)} held-out prompts × {len(seeds)} seeds, references on yellow:")
    for background in (False, True):
        kind = "prompt names another background" if background else "prompt leaves the background out"
        print(f"  {kind}:")
        print(f"    no adapter   {sref_figures(pipeline, chosen, seeds, None, background=background)}")
        for scale in args.scales:
            print(
                f"    scale {scale:<6} {sref_figures(pipeline, chosen, seeds, scale, background=background)}"
            )
    blend_seeds = list(range(8 * args.seeds))
    print(f"blend, no prompt: A = {BLEND_A.caption!r}, B = {BLEND_B.caption!r}, {len(blend_seeds)} seeds:")
    print(f"  no adapter     {blend_figures(pipeline, None, blend_seeds, 0.0).describe(BLEND_A, BLEND_B)}")
    for scale in args.scales:
        for label, weights in (("A alone", (1.0, 0.0)), ("B alone", (0.0, 1.0)), ("mean   ", (0.5, 0.5))):
            figures = blend_figures(pipeline, weights, blend_seeds, scale)
            print(f"  scale {scale:<4} {label} {figures.describe(BLEND_A, BLEND_B)}")
    print(f"({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
