"""Train the small shapes model: the VAE first, then the text encoder and the UNet together.

`python -m training.shapes.train --out DIR` writes a Stable Diffusion pipeline in the diffusers layout
(safetensors), loadable through the catalog as a `folder` source. The data are generated on the fly
(`training.shapes.scenes`), so nothing is downloaded. Every few minutes the log reports how well the
model draws held-out prompts (`training.shapes.scoring`), with the weights' moving average.
"""

import argparse
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
from diffusers import (
    AutoencoderKL,
    DDPMScheduler,
    EulerDiscreteScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from diffusers.training_utils import EMAModel
from transformers import CLIPTextModel, CLIPTokenizer

from models.tiny.parts import TINY_SIZE, small_text_config
from training.shapes import scoring
from training.shapes.scenes import render, scenes
from training.shapes.tokenizer import caption_tokenizer

log = logging.getLogger(__name__)

SIDE = TINY_SIZE
TEXT_WIDTH = 128
CAPTION_DROPOUT = 0.1
"""Share of training captions replaced by the empty prompt, so classifier-free guidance works."""
NOISE_SCHEDULE = {
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "prediction_type": "v_prediction",
}
"""DDPM's linear schedule (Ho et al., 2020) with v-prediction (Salimans & Ho, 2022), saved with the
model so every sampler follows it. SD's schedule keeps about 7 % of the signal at the noisiest step:
on 16×16 latents the picture's mean colour is still readable there, so the background followed the
starting noise, not the prompt. This one keeps under 1 %. Most of its steps are so noisy that an
ε-prediction loss there is near zero and teaches nothing about the picture; v-prediction's loss
weighs the picture's error about equally at every noise level, and the noisy levels are where the
layout and the colours are decided."""
MIN_SNR_GAMMA = 5.0
"""Min-SNR loss weighting (Hang et al., 2023): low-noise steps no longer dominate the loss."""
LEARNING_RATE = 1e-3
VAE_LEARNING_RATE = 1e-3
EVAL_PROMPTS = 16


def build(seed: int, tokenizer: CLIPTokenizer) -> tuple[AutoencoderKL, CLIPTextModel, UNet2DConditionModel]:
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=SIDE,
    )
    text_encoder = CLIPTextModel(
        small_text_config(tokenizer, width=TEXT_WIDTH, intermediate=256, layers=3, heads=4)
    )
    unet = UNet2DConditionModel(
        sample_size=SIDE // 4,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64, 64),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=TEXT_WIDTH,
        attention_head_dim=16,
        norm_num_groups=16,
        # The prompt also reaches every ResNet block through the timestep embedding, pooled by
        # attention: whole-picture attributes (colours, background) need no cross-attention to learn.
        addition_embed_type="text",
        addition_embed_type_num_heads=4,
    )
    return vae, text_encoder, unet


def batches(seed: int, size: int) -> Iterator[tuple[torch.Tensor, list[str]]]:
    """Endless batches of training pictures (in [-1, 1]) and their captions."""
    stream = scenes(seed)
    rng = random.Random(seed)
    while True:
        chosen = list(itertools.islice(stream, size))
        pixels = [np.asarray(render(scene, SIDE, seed=rng.randrange(1 << 30))) for scene in chosen]
        images = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float() / 127.5 - 1
        yield images, [scene.loose_caption(rng) for scene in chosen]


def train_vae(vae: AutoencoderKL, data: Iterator, minutes: float, eval_minutes: float) -> None:
    """Reconstruction (mean squared error) with a cosine learning rate over the budget."""
    optimiser = torch.optim.AdamW(vae.parameters(), lr=VAE_LEARNING_RATE)
    started = time.monotonic()
    next_eval = started + eval_minutes * 60
    for step in itertools.count():
        done = (time.monotonic() - started) / max(minutes * 60, 1e-9)
        if done >= 1.0:
            break
        for group in optimiser.param_groups:
            group["lr"] = VAE_LEARNING_RATE * (0.1 + 0.45 * (1 + math.cos(math.pi * done)))
        images, _ = next(data)
        posterior = vae.encode(images).latent_dist
        decoded = vae.decode(posterior.sample()).sample
        loss = F.mse_loss(decoded, images) + 1e-6 * posterior.kl().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 100 == 0:
            log.info("vae step %d: loss %.5f", step, loss.item())
        if time.monotonic() > next_eval:
            _log_reconstructions(vae, f"vae step {step}")
            next_eval = time.monotonic() + eval_minutes * 60
    _log_reconstructions(vae, "vae")


def _log_reconstructions(vae: AutoencoderKL, when: str) -> None:
    log.info(
        "%s: held-out reconstructions %s",
        when,
        scoring.score_reconstructions(vae, scoring.held_out_scenes(64)),
    )


def train_denoiser(
    pipeline: StableDiffusionPipeline, data: Iterator, minutes: float, eval_minutes: float
) -> None:
    """V-prediction with min-SNR weighting, a cosine learning rate over the
    time budget and an exponential moving average of the weights, which the pipeline holds at the end."""
    vae, text_encoder, unet, tokenizer = (
        pipeline.vae,
        pipeline.text_encoder,
        pipeline.unet,
        pipeline.tokenizer,
    )
    noise_schedule = DDPMScheduler(**NOISE_SCHEDULE)
    snr = noise_schedule.alphas_cumprod / (1 - noise_schedule.alphas_cumprod)
    vae.requires_grad_(False)
    parameters = [*unet.parameters(), *text_encoder.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=LEARNING_RATE)
    average = EMAModel(parameters, use_ema_warmup=True)
    started = time.monotonic()
    next_eval = started + eval_minutes * 60
    for step in itertools.count():
        done = min(1.0, (time.monotonic() - started) / max(minutes * 60, 1e-9))
        warm = min(1.0, (step + 1) / 100)
        for group in optimiser.param_groups:  # warm-up, then cosine decay over the budget to a tenth
            group["lr"] = LEARNING_RATE * warm * (0.1 + 0.45 * (1 + math.cos(math.pi * done)))
        images, captions = next(data)
        captions = ["" if random.random() < CAPTION_DROPOUT else caption for caption in captions]
        with torch.no_grad():
            latents = vae.encode(images).latent_dist.mean * vae.config.scaling_factor
        tokens = tokenizer(captions, padding="max_length", truncation=True, return_tensors="pt").input_ids
        noise = torch.randn_like(latents)
        steps = torch.randint(0, noise_schedule.config.num_train_timesteps, (latents.shape[0],))
        noisy = noise_schedule.add_noise(latents, noise, steps)
        predicted = unet(noisy, steps, encoder_hidden_states=text_encoder(tokens)[0]).sample
        target = noise_schedule.get_velocity(latents, noise, steps)
        weights = snr[steps].clamp(max=MIN_SNR_GAMMA) / (snr[steps] + 1)  # min-SNR-γ for v (Hang et al.)
        loss = (F.mse_loss(predicted, target, reduction="none").mean(dim=(1, 2, 3)) * weights).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        average.step(parameters)
        if step % 100 == 0:
            log.info("unet step %d: loss %.5f", step, loss.item())
        finished = done >= 1.0
        if finished or time.monotonic() > next_eval:
            average.store(parameters)
            average.copy_to(parameters)
            _log_evaluation(pipeline, f"step {step}")
            if not finished:
                average.restore(parameters)
            next_eval = time.monotonic() + eval_minutes * 60
        if finished:
            break  # the pipeline keeps the averaged weights


def _log_evaluation(pipeline: StableDiffusionPipeline, when: str) -> None:
    began = time.monotonic()
    score = scoring.score_pipeline(pipeline, scoring.held_out_scenes(EVAL_PROMPTS))
    log.info("%s: held-out %s (%.0f s)", when, score, time.monotonic() - began)


def scale_latents(vae: AutoencoderKL, data: Iterator) -> None:
    """Sets the VAE's scaling factor so its latents have unit variance, as diffusion expects."""
    with torch.no_grad():
        images, _ = next(data)
        std = vae.encode(images).latent_dist.mean.std().item()
    vae.register_to_config(scaling_factor=1 / std)


def fit_preview(vae: AutoencoderKL, data: Iterator) -> tuple[list[list[float]], list[float]]:
    """The catalog's `latent_rgb_factors` and `latent_rgb_bias` for this VAE: the least-squares fit
    of RGB (pooled to the latents' size) ≈ scaled latents · factors + bias, over eight batches. The
    map is rough (a mean error of about a sixth of the colour range): enough for a progress preview."""
    images = torch.cat([next(data)[0] for _ in range(8)])
    with torch.no_grad():
        latents = vae.encode(images).latent_dist.mean * vae.config.scaling_factor
    pooled = F.adaptive_avg_pool2d(images, latents.shape[-2:])
    inputs = latents.permute(0, 2, 3, 1).reshape(-1, latents.shape[1])
    inputs = torch.cat([inputs, torch.ones(len(inputs), 1)], dim=1)
    solution = torch.linalg.lstsq(inputs, pooled.permute(0, 2, 3, 1).reshape(-1, 3)).solution
    rounded = [[round(value, 4) for value in row] for row in solution.tolist()]
    return rounded[:-1], rounded[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.shapes.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the pipeline to")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--vae-minutes", type=float, default=12.0)
    parser.add_argument(
        "--vae-from",
        type=Path,
        default=None,
        help="start from this VAE folder (e.g. an earlier run's out/vae)",
    )
    parser.add_argument("--unet-minutes", type=float, default=46.0)
    parser.add_argument("--eval-minutes", type=float, default=8.0, help="how often to log the evaluation")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    tokenizer = caption_tokenizer()
    vae, text_encoder, unet = build(args.seed, tokenizer)
    if args.vae_from is not None:
        vae = AutoencoderKL.from_pretrained(args.vae_from, local_files_only=True)
    data = batches(args.seed, args.batch)
    began = time.monotonic()
    if args.vae_minutes > 0:
        train_vae(vae, data, args.vae_minutes, args.eval_minutes)
        vae.save_pretrained(args.out / "vae")  # kept if the second phase is stopped: see --vae-from
    scale_latents(vae, data)
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(**NOISE_SCHEDULE, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    train_denoiser(pipeline, data, args.unet_minutes, args.eval_minutes)
    pipeline.save_pretrained(args.out, safe_serialization=True)
    factors, bias = fit_preview(vae, data)
    log.info("for the catalog entry: latent_rgb_factors = %s, latent_rgb_bias = %s", factors, bias)
    log.info("trained in %.1f minutes; saved to %s", (time.monotonic() - began) / 60, args.out)


if __name__ == "__main__":
    main()
