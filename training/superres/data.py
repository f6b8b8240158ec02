"""Low- and high-resolution renders of the same shapes scene: what `shapes-2x` learns to map between,
and the measure of how close it gets (PSNR)."""

import numpy as np
import torch
from PIL import Image

from training.shapes.scenes import Scene, render
from training.shapes.scoring import held_out_scenes

LOW, SCALE = 64, 2
"""The shapes model draws 64×64; the true 2× picture is the same scene rendered at 128×128."""


def pair(scene: Scene, seed: int) -> tuple[Image.Image, Image.Image]:
    """The scene at 64×64 and at 128×128, its shapes in the same places (`seed`)."""
    return render(scene, LOW, seed=seed), render(scene, LOW * SCALE, seed=seed)


def held_out_pairs(count: int) -> list[tuple[Scene, Image.Image, Image.Image]]:
    """Scenes of `count` distinct held-out captions (never trained on), with their two renders."""
    return [(scene, *pair(scene, seed)) for seed, scene in enumerate(held_out_scenes(count))]


def to_tensor(images: list[Image.Image]) -> torch.Tensor:
    """A batch (N, 3, H, W) in [0, 1]."""
    pixels = np.stack([np.asarray(image.convert("RGB")) for image in images])
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255


def psnr(image: Image.Image, reference: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB over 8-bit RGB."""
    error = np.asarray(image, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    return float(10 * np.log10(255**2 / max(np.mean(error**2), 1e-10)))
