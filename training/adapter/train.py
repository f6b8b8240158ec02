"""Train `shapes-ip-adapter`: an IP-Adapter for the built-in shapes model, so that a picture steers
what it draws (`--sref`, `/blend`).

`python -m training.adapter.train [--out DIR] [--minutes N]` writes `ip-adapter.safetensors` and
`image_encoder/` in the layout diffusers' `StableDiffusionPipeline.load_ip_adapter` reads. The shapes
model (UNet, text encoder, VAE) stays frozen; a tiny CLIP vision tower, the image projection and
each cross-attention layer's `to_k_ip` / `to_v_ip` learn the model's own denoising loss with the
reference picture's embedding as extra cross-attention tokens. Scenes are rendered on the fly from
training captions only (`training.shapes.scenes`); nothing is downloaded. It trains for a time
budget and scores and saves every few minutes.
"""

import argparse
import dataclasses
import itertools
import logging
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler, DPMSolverMultistepScheduler, StableDiffusionPipeline
from safetensors.torch import load_file
from transformers import CLIPVisionModelWithProjection

from training.adapter import evaluate
from training.adapter.parts import (
    ENCODER_FOLDER,
    SHAPES_MODEL,
    SHIPPED,
    WEIGHT_NAME,
    attach,
    build_encoder,
    feature_extractor,
    initial_state_dict,
    pixels,
    save,
)
from training.shapes.scenes import Scene, random_scene, render, scenes
from training.shapes.train import MIN_SNR_GAMMA, NOISE_SCHEDULE

log = logging.getLogger(__name__)

MODES = {"same scene": 0.45, "same background": 0.45, "no picture": 0.10}
"""What the reference picture is for a training target: the same scene drawn again (another
placement), a different scene on the same background (what a style reference teaches), or none
(zero embedding, the pipeline's negative for guidance)."""
EMPTY_CAPTION = {"same scene": 0.5, "same background": 0.0, "no picture": 0.5}
"""How often the caption is dropped: with the same scene half the time, so a picture alone (`/blend`,
no prompt) draws the scene; never for a different scene, whose shapes must come from the text."""
UNSAID_BACKGROUND = 0.85
"""With a same-background reference, how often the caption leaves the background to the picture."""


@dataclasses.dataclass
class Batch:
    images: torch.Tensor
    """Targets in [-1, 1], (N, 3, 64, 64)."""
    references: torch.Tensor
    """Reference pictures as the feature extractor writes them."""
    keep: torch.Tensor
    """(N,) 1 where the reference is used, 0 where its embedding is zeroed."""
    captions: list[str]


def _other_scene(rng: random.Random, background: str) -> Scene:
    """A random training scene on `background`."""
    while True:
        scene = random_scene(rng)
        if scene.colour != background:
            scene = dataclasses.replace(scene, background=background)
            if not scene.held_out:
                return scene


def batches(seed: int, size: int, modes: dict[str, float] = MODES) -> Iterator[Batch]:
    stream, rng = scenes(seed), random.Random(seed)
    names, weights = list(modes), list(modes.values())
    while True:
        targets, references, keep, captions = [], [], [], []
        for scene in itertools.islice(stream, size):
            mode = rng.choices(names, weights)[0]
            targets.append(render(scene, seed=rng.randrange(1 << 30)))
            if mode == "same background":
                reference = render(_other_scene(rng, scene.background), seed=rng.randrange(1 << 30))
                unsaid = rng.random() < UNSAID_BACKGROUND
                caption = scene.describe(size=rng.random() >= 0.3, background=not unsaid)
            else:
                reference = render(scene, seed=rng.randrange(1 << 30))
                caption = scene.loose_caption(rng)
            references.append(reference)
            keep.append(0.0 if mode == "no picture" else 1.0)
            captions.append("" if rng.random() < EMPTY_CAPTION[mode] else caption)
        arrays = np.stack([np.asarray(image, dtype=np.float32) for image in targets])
        yield Batch(
            images=torch.from_numpy(arrays).permute(0, 3, 1, 2) / 127.5 - 1,
            references=pixels(references),
            keep=torch.tensor(keep),
            captions=captions,
        )


def _initial(unet: torch.nn.Module, start: Path | None, seed: int) -> tuple[torch.nn.Module, dict]:
    """A fresh encoder and adapter, or those of an earlier run's folder (`--init`)."""
    if start is None:
        return build_encoder(), initial_state_dict(unet, seed)
    flat = load_file(start / WEIGHT_NAME)
    state_dict: dict[str, dict[str, torch.Tensor]] = {"image_proj": {}, "ip_adapter": {}}
    for key, value in flat.items():
        group, name = key.split(".", 1)
        state_dict[group][name] = value
    return CLIPVisionModelWithProjection.from_pretrained(start / ENCODER_FOLDER), state_dict


def train(
    out: Path,
    minutes: float,
    batch_size: int,
    lr: float,
    seed: int,
    check_minutes: float,
    start: Path | None = None,
    modes: dict[str, float] = MODES,
) -> None:
    torch.manual_seed(seed)
    pipeline = StableDiffusionPipeline.from_pretrained(
        SHAPES_MODEL, local_files_only=True, safety_checker=None
    )
    vae, text_encoder, tokenizer, unet = (
        pipeline.vae,
        pipeline.text_encoder,
        pipeline.tokenizer,
        pipeline.unet,
    )
    for module in (vae, text_encoder, unet):
        module.requires_grad_(False)
    encoder, state_dict = _initial(unet, start, seed)
    adapter = attach(unet, state_dict)
    for parameter in adapter:
        parameter.requires_grad_(True)
    parameters = [*encoder.parameters(), *adapter]
    log.info(
        "%d encoder + %d adapter parameters",
        sum(p.numel() for p in encoder.parameters()),
        sum(p.numel() for p in adapter),
    )
    optimiser = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    noise_schedule = DDPMScheduler(**NOISE_SCHEDULE)
    snr = noise_schedule.alphas_cumprod / (1 - noise_schedule.alphas_cumprod)
    cached: dict[str, torch.Tensor] = {}
    data = batches(seed, batch_size, modes)
    sampler = StableDiffusionPipeline(
        **{
            **pipeline.components,
            "scheduler": DPMSolverMultistepScheduler.from_config(
                pipeline.scheduler.config, use_karras_sigmas=True
            ),
            "image_encoder": encoder,
            "feature_extractor": feature_extractor(),
        }
    )
    sampler.set_progress_bar_config(disable=True)
    began = last_check = time.monotonic()
    budget, step = minutes * 60, 0
    while (elapsed := time.monotonic() - began) < budget:
        warm = min(1.0, (step + 1) / 100)
        for group in optimiser.param_groups:  # warm-up, then a cosine decay over the budget to a tenth
            group["lr"] = lr * warm * (0.1 + 0.45 * (1 + math.cos(math.pi * elapsed / budget)))
        batch = next(data)
        with torch.no_grad():
            latents = vae.encode(batch.images).latent_dist.mean * vae.config.scaling_factor
            missing = [c for c in set(batch.captions) if c not in cached]
            if missing:
                tokens = tokenizer(
                    missing, padding="max_length", truncation=True, return_tensors="pt"
                ).input_ids
                for caption, states in zip(missing, text_encoder(tokens)[0], strict=True):
                    cached[caption] = states
            text = torch.stack([cached[c] for c in batch.captions])
        embeds = encoder(batch.references).image_embeds * batch.keep[:, None]
        noise = torch.randn_like(latents)
        steps = torch.randint(0, noise_schedule.config.num_train_timesteps, (latents.shape[0],))
        noisy = noise_schedule.add_noise(latents, noise, steps)
        predicted = unet(
            noisy, steps, encoder_hidden_states=text, added_cond_kwargs={"image_embeds": [embeds[:, None, :]]}
        ).sample
        target = noise_schedule.get_velocity(latents, noise, steps)
        weights = snr[steps].clamp(max=MIN_SNR_GAMMA) / (snr[steps] + 1)  # min-SNR-γ for v (Hang et al.)
        loss = (F.mse_loss(predicted, target, reduction="none").mean(dim=(1, 2, 3)) * weights).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        step += 1
        if step % 50 == 0:
            log.info("step %d, %.1f min: loss %.5f", step, elapsed / 60, loss.item())
        if time.monotonic() - last_check > check_minutes * 60:
            _check(sampler, encoder, step, out)
            last_check = time.monotonic()
    _check(sampler, encoder, step, out)
    log.info("%d steps in %.1f min", step, (time.monotonic() - began) / 60)


def _check(sampler: StableDiffusionPipeline, encoder: torch.nn.Module, step: int, out: Path) -> None:
    """A quick score on a few held-out prompts (see `evaluate` for the full one), then save."""
    encoder.eval()
    began = time.monotonic()
    with torch.no_grad():
        chosen = evaluate.sref_prompts(4)
        base = evaluate.sref_figures(sampler, chosen, [0, 1], None, background=False)
        sref = evaluate.sref_figures(sampler, chosen, [0, 1], 1.0, background=False)
        blend = evaluate.blend_figures(sampler, (0.5, 0.5), list(range(8)), 1.0)
        alone = evaluate.blend_figures(sampler, (1.0, 0.0), list(range(4)), 1.0)
    log.info("step %d: no adapter  %s", step, base)
    log.info("step %d: sref yellow %s", step, sref)
    log.info("step %d: A alone %s", step, alone.describe(evaluate.BLEND_A, evaluate.BLEND_B))
    log.info(
        "step %d: blend   %s (%.0f s)",
        step,
        blend.describe(evaluate.BLEND_A, evaluate.BLEND_B),
        time.monotonic() - began,
    )
    encoder.train()
    save(sampler.unet, encoder, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.adapter.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=SHIPPED, help="adapter folder (default: the shipped one)")
    parser.add_argument("--minutes", type=float, default=40.0, help="training time budget")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-minutes", type=float, default=6.0, help="how often to score and save")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--init", type=Path, default=None, help="start from an earlier run's adapter folder")
    parser.add_argument(
        "--modes",
        type=float,
        nargs=3,
        default=list(MODES.values()),
        metavar=("SAME_SCENE", "SAME_BACKGROUND", "NO_PICTURE"),
        help="how often each kind of reference picture is drawn",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    modes = dict(zip(MODES, args.modes, strict=True))
    train(args.out, args.minutes, args.batch_size, args.lr, args.seed, args.check_minutes, args.init, modes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
