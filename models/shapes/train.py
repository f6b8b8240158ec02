"""Train the small shapes model: the VAE first, then the text encoder and the UNet together.

`python -m models.shapes.train --out DIR` writes a Stable Diffusion pipeline in the diffusers layout
(safetensors), loadable through the catalog as a `folder` source. The data are generated on the fly
(`models.shapes.scenes`), so nothing is downloaded; the same seed trains the same model.
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
from transformers import CLIPTextConfig, CLIPTextModel

from models.shapes.scenes import render, scenes
from models.tiny import SD_NOISE_SCHEDULE, TINY_SIZE, byte_level_tokenizer

log = logging.getLogger(__name__)

SIDE = TINY_SIZE
TEXT_WIDTH = 128
CAPTION_DROPOUT = 0.1
"""Share of training captions replaced by the empty prompt, so classifier-free guidance works."""


def build(seed: int) -> tuple[AutoencoderKL, CLIPTextModel, UNet2DConditionModel]:
    tokenizer = byte_level_tokenizer()
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
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_WIDTH,
            intermediate_size=256,
            num_hidden_layers=3,
            num_attention_heads=4,
            max_position_embeddings=tokenizer.model_max_length,
            projection_dim=TEXT_WIDTH,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
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
        yield images, [scene.caption for scene in chosen]


def train_vae(vae: AutoencoderKL, data: Iterator, minutes: float, batch_log: int = 100) -> None:
    optimiser = torch.optim.AdamW(vae.parameters(), lr=1e-3)
    deadline = time.monotonic() + minutes * 60
    for step in itertools.count():
        images, _ = next(data)
        posterior = vae.encode(images).latent_dist
        decoded = vae.decode(posterior.sample()).sample
        loss = F.mse_loss(decoded, images) + 1e-6 * posterior.kl().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % batch_log == 0:
            log.info("vae step %d: loss %.5f", step, loss.item())
        if time.monotonic() > deadline:
            break


def train_denoiser(
    vae: AutoencoderKL,
    text_encoder: CLIPTextModel,
    unet: UNet2DConditionModel,
    data: Iterator,
    minutes: float,
) -> None:
    tokenizer = byte_level_tokenizer()
    noise_schedule = DDPMScheduler(**SD_NOISE_SCHEDULE)
    vae.requires_grad_(False)
    parameters = [*unet.parameters(), *text_encoder.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=5e-4)
    deadline = time.monotonic() + minutes * 60
    started = time.monotonic()
    for step in itertools.count():
        done = min(1.0, (time.monotonic() - started) / max(minutes * 60, 1e-9))
        for group in optimiser.param_groups:  # cosine decay over the time budget, to a tenth
            group["lr"] = 5e-4 * (0.1 + 0.45 * (1 + math.cos(math.pi * done)))
        images, captions = next(data)
        captions = ["" if random.random() < CAPTION_DROPOUT else caption for caption in captions]
        with torch.no_grad():
            latents = vae.encode(images).latent_dist.mean * vae.config.scaling_factor
        tokens = tokenizer(captions, padding="max_length", truncation=True, return_tensors="pt").input_ids
        noise = torch.randn_like(latents)
        steps = torch.randint(0, noise_schedule.config.num_train_timesteps, (latents.shape[0],))
        noisy = noise_schedule.add_noise(latents, noise, steps)
        predicted = unet(noisy, steps, encoder_hidden_states=text_encoder(tokens)[0]).sample
        loss = F.mse_loss(predicted, noise)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        if step % 100 == 0:
            log.info("unet step %d: loss %.5f", step, loss.item())
        if time.monotonic() > deadline:
            break


def scale_latents(vae: AutoencoderKL, data: Iterator) -> None:
    """Sets the VAE's scaling factor so its latents have unit variance, as diffusion expects."""
    with torch.no_grad():
        images, _ = next(data)
        std = vae.encode(images).latent_dist.mean.std().item()
    vae.register_to_config(scaling_factor=1 / std)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.shapes.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the pipeline to")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--vae-minutes", type=float, default=8.0)
    parser.add_argument("--unet-minutes", type=float, default=40.0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    vae, text_encoder, unet = build(args.seed)
    data = batches(args.seed, args.batch)
    began = time.monotonic()
    train_vae(vae, data, args.vae_minutes)
    scale_latents(vae, data)
    train_denoiser(vae, text_encoder, unet, data, args.unet_minutes)
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=byte_level_tokenizer(),
        unet=unet,
        scheduler=EulerDiscreteScheduler(**SD_NOISE_SCHEDULE, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(args.out, safe_serialization=True)
    log.info("trained in %.1f minutes; saved to %s", (time.monotonic() - began) / 60, args.out)


if __name__ == "__main__":
    main()
