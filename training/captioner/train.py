"""Train `shapes-captioner`: a `VisionEncoderDecoderModel` that reads a 64×64 shapes scene and
writes its full caption.

`python -m training.captioner.train [--out DIR]` writes the model, its image processor and its
tokenizer with `save_pretrained`. It learns from scenes rendered on the fly from training captions
only (`training.shapes.scenes`: one caption in ten is held out by its SHA-256, as for the shapes
model); nothing is downloaded. It trains for a time budget and saves whenever it scores.
"""

import argparse
import logging
import math
import random
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import torch
from PIL import Image
from transformers import PreTrainedTokenizerFast, VisionEncoderDecoderModel

from training.captioner.evaluate import caption_images, held_out_pairs, score
from training.captioner.parts import build_model, caption_tokenizer, image_processor, pixels
from training.shapes.scenes import Scene, render, scenes

log = logging.getLogger(__name__)

DEFAULT_OUT = Path(__file__).parents[2] / "models" / "captioners" / "shapes-captioner"
CHECK_SCENES = 100
"""Held-out scenes the log scores every few minutes (`evaluate` scores more)."""


def batch(
    stream: Iterator[Scene], rng: random.Random, tokenizer: PreTrainedTokenizerFast, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` training scenes rendered (a random placement for unplaced shapes) and their labels."""
    chosen = list(islice(stream, size))
    images = [render(scene, seed=rng.randrange(1 << 30)) for scene in chosen]
    encoded = tokenizer([scene.caption for scene in chosen], padding=True, return_tensors="pt")
    labels = encoded.input_ids.masked_fill(encoded.attention_mask == 0, -100)  # no loss on padding
    return pixels(images), labels


def save(model: VisionEncoderDecoderModel, tokenizer: PreTrainedTokenizerFast, out: Path) -> None:
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    image_processor().save_pretrained(out)


def train(out: Path, minutes: float, batch_size: int, lr: float, seed: int) -> VisionEncoderDecoderModel:
    """AdamW with warm-up and a cosine decay over the time budget; scores and saves every few minutes."""
    torch.manual_seed(seed)
    tokenizer = caption_tokenizer()
    model = build_model(tokenizer)
    log.info("%d parameters", sum(p.numel() for p in model.parameters()))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    stream, rng = iter(scenes(seed)), random.Random(seed)
    checks = held_out_pairs(CHECK_SCENES)
    began = last_check = time.monotonic()
    budget, step = minutes * 60, 0
    while (elapsed := time.monotonic() - began) < budget:
        warm = min(1.0, (step + 1) / 100)
        for group in optimizer.param_groups:
            group["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        images, labels = batch(stream, rng, tokenizer, batch_size)
        loss = model(pixel_values=images, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 100 == 0:
            log.info("step %d, %.1f min: loss %.4f", step, elapsed / 60, loss.item())
        if time.monotonic() - last_check > 240:
            last_check = time.monotonic()
            _check(model, tokenizer, checks, step, out)
    _check(model, tokenizer, checks, step, out)
    log.info("%d steps in %.1f min", step, (time.monotonic() - began) / 60)
    return model


def _check(
    model: VisionEncoderDecoderModel,
    tokenizer: PreTrainedTokenizerFast,
    checks: list[tuple[Scene, Image.Image]],
    step: int,
    out: Path,
) -> None:
    model.eval()
    captions = caption_images(model, image_processor(), tokenizer, [image for _, image in checks])
    model.train()
    log.info("step %d, %d held-out scenes: %s", step, len(checks), score([s for s, _ in checks], captions))
    save(model, tokenizer, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.captioner.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="model folder (default: the shipped one)"
    )
    parser.add_argument("--minutes", type=float, default=25.0, help="training time budget")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    train(args.out, args.minutes, args.batch_size, args.lr, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
