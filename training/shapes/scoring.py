"""Scoring a model in training on held-out captions, read back from the pixels: the training script
logs these as it goes. `training.shapes.evaluate` scores a finished model the way the worker runs it."""

import numpy as np
import torch
from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, StableDiffusionPipeline
from PIL import Image

from training.shapes.measure import Accuracy, accuracy
from training.shapes.scenes import Scene, render, scenes

_SEED = 1
"""Seeds the stream the evaluation's scenes are drawn from (held-out captions are never trained on,
whatever the seed)."""


def held_out_scenes(count: int, seed: int = _SEED) -> list[Scene]:
    """The first `count` distinct held-out captions' scenes."""
    unique: dict[str, Scene] = {}
    for scene in scenes(seed, held_out=True):
        unique.setdefault(scene.caption, scene)
        if len(unique) == count:
            break
    return list(unique.values())


def score_pipeline(
    pipeline: StableDiffusionPipeline, chosen: list[Scene], *, steps: int = 15, guidance: float = 5.0
) -> Accuracy:
    """One image per scene from `pipeline` (sharing its modules), with DPM++ 2M Karras."""
    sampler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config, use_karras_sigmas=True)
    sampling = StableDiffusionPipeline(**{**pipeline.components, "scheduler": sampler})
    sampling.set_progress_bar_config(disable=True)
    side = pipeline.unet.config.sample_size * pipeline.vae_scale_factor
    images = sampling(
        [scene.caption for scene in chosen],
        height=side,
        width=side,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=[torch.Generator().manual_seed(i) for i in range(len(chosen))],
    ).images
    return accuracy(zip(chosen, images, strict=True))


def score_reconstructions(vae: AutoencoderKL, chosen: list[Scene]) -> Accuracy:
    """The scenes' renders through the VAE and back: what the decoder can still tell apart."""
    side = vae.config.sample_size
    pixels = torch.stack(
        [torch.from_numpy(np.asarray(render(scene, side), dtype=np.float32)) for scene in chosen]
    )
    with torch.no_grad():
        decoded = vae.decode(vae.encode(pixels.permute(0, 3, 1, 2) / 127.5 - 1).latent_dist.mean).sample
    frames = ((decoded.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return accuracy(zip(chosen, (Image.fromarray(frame) for frame in frames), strict=True))
