"""Train `shapes-2x`: a 2× super-resolution model for the shapes model's 64×64 pictures.

`python -m training.superres.train --out FILE` writes the weights as safetensors in the key layout
of Real-ESRGAN's compact model (SRVGGNetCompact), which spandrel, and so the catalog's upscalers,
load. It learns from renders of the same scene at 64×64 (the input) and at 128×128 (the target),
on training captions only (`training.shapes.scenes`); nothing is downloaded.
"""

import argparse
import logging
import math
import random
import time
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file

from models.upscalers import spandrel
from training.shapes.scenes import scenes
from training.superres.data import LOW, SCALE, held_out_pairs, pair, psnr, to_tensor

log = logging.getLogger(__name__)

Compact = spandrel.architectures.Compact.Compact
DEFAULT_OUT = Path(__file__).parents[2] / "models" / "superres" / "shapes-2x" / "model.safetensors"
CHECK_SCENES = 16
"""Held-out scenes the log scores every few minutes (`evaluate` scores more)."""


def build(features: int, convs: int) -> torch.nn.Module:
    return Compact(num_in_ch=3, num_out_ch=3, num_feat=features, num_conv=convs, upscale=SCALE)


def training_pool(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` training scenes rendered once: inputs (N, 3, 64, 64) and targets (N, 3, 128, 128)."""
    pairs = [pair(scene, i) for i, scene in enumerate(islice(scenes(seed), count))]
    return to_tensor([low for low, _ in pairs]), to_tensor([high for _, high in pairs])


def batch(
    lows: torch.Tensor, highs: torch.Tensor, size: int, patch: int, rng: random.Random
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random aligned crops (a `patch`-pixel input, its 2× target), half of them mirrored."""
    inputs, targets = [], []
    for _ in range(size):
        i = rng.randrange(len(lows))
        y, x = rng.randrange(LOW - patch + 1), rng.randrange(LOW - patch + 1)
        low = lows[i, :, y : y + patch, x : x + patch]
        high = highs[i, :, SCALE * y : SCALE * (y + patch), SCALE * x : SCALE * (x + patch)]
        if rng.random() < 0.5:
            low, high = low.flip(-1), high.flip(-1)
        inputs.append(low)
        targets.append(high)
    return torch.stack(inputs), torch.stack(targets)


@torch.inference_mode()
def check(model: torch.nn.Module) -> tuple[float, float]:
    """Mean PSNR (dB) of the model and of Lanczos against the true 2× renders, held-out scenes."""
    model.eval()
    ours, lanczos = [], []
    for _, low, high in held_out_pairs(CHECK_SCENES):
        out = model(to_tensor([low])).clamp(0, 1)[0]
        image = Image.fromarray((out.permute(1, 2, 0) * 255).round().byte().numpy())
        ours.append(psnr(image, high))
        lanczos.append(psnr(low.resize(high.size, Image.Resampling.LANCZOS), high))
    model.train()
    return sum(ours) / len(ours), sum(lanczos) / len(lanczos)


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    began = time.perf_counter()
    lows, highs = training_pool(args.pool, args.seed)
    log.info("rendered %d training pairs in %.0f s", len(lows), time.perf_counter() - began)
    model = build(args.features, args.convs)
    if args.init is not None:
        model.load_state_dict(load_file(args.init))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    budget, step, last_check = args.minutes * 60, 0, time.perf_counter()
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < budget:
        for group in optimizer.param_groups:  # cosine decay over the time budget
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        inputs, targets = batch(lows, highs, args.batch, args.patch, rng)
        # Squared error, which PSNR measures: an L1 loss stays where the model starts, at nearest-
        # neighbour upscaling, since most pixels are flat and the median of their residual is zero.
        loss = F.mse_loss(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if time.perf_counter() - last_check > args.check_minutes * 60:
            ours, lanczos = check(model)
            report = (step, elapsed / 60, loss.item(), ours, lanczos)
            log.info("step %d, %.1f min: MSE %.5f; PSNR %.2f dB (Lanczos %.2f)", *report)
            last_check = time.perf_counter()
    ours, lanczos = check(model)
    minutes = (time.perf_counter() - began) / 60
    log.info("done: %d steps, %.1f min; PSNR %.2f dB (Lanczos %.2f)", step, minutes, ours, lanczos)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    weights = {key: value.detach().contiguous() for key, value in model.state_dict().items()}
    metadata = {"architecture": "SRVGGNetCompact", "scale": str(SCALE), "steps": str(step)}
    save_file(weights, args.out, metadata=metadata)
    log.info("wrote %s (%.2f MB)", args.out, args.out.stat().st_size / 1e6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.superres.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the .safetensors file to write")
    parser.add_argument("--minutes", type=float, default=14.0, help="training time budget")
    parser.add_argument("--features", type=int, default=32, help="channels of each convolution")
    parser.add_argument("--convs", type=int, default=8, help="3×3 convolutions between the first and last")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--patch", type=int, default=32, help="side of the input crops, ≤ 64")
    parser.add_argument("--pool", type=int, default=4000, help="training scenes rendered up front")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (the machine is shared)")
    parser.add_argument("--check-minutes", type=float, default=3.0, help="minutes between held-out checks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, default=None, help="start from these weights (an earlier run's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
