"""Cheap progress previews: latents to RGB through a per-family linear map, no VAE decode."""

import io
from collections.abc import Sequence

import torch
from PIL import Image

from broker.images import tile_grid

PREVIEW_MAX_SIDE = 256


class LatentPreviewer:
    """Turns a batch of latents into a small JPEG grid with a 4×3 (channels × RGB) matrix."""

    def __init__(self, factors: Sequence[Sequence[float]], bias: Sequence[float]) -> None:
        self._factors = torch.tensor(factors, dtype=torch.float32)
        self._bias = torch.tensor(bias, dtype=torch.float32)

    def jpeg(self, latents: torch.Tensor) -> bytes:
        rgb = torch.einsum("bchw,cr->bhwr", latents.detach().float().cpu(), self._factors) + self._bias
        pixels = ((rgb.clamp(-1, 1) + 1) * 127.5).to(torch.uint8).numpy()
        images = [Image.fromarray(frame) for frame in pixels]
        preview = tile_grid(images) if len(images) > 1 else images[0]
        preview.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.BILINEAR)
        if min(preview.size) < PREVIEW_MAX_SIDE // 2:
            scale = PREVIEW_MAX_SIDE // max(preview.size)
            preview = preview.resize(
                (preview.width * scale, preview.height * scale), Image.Resampling.BILINEAR
            )
        buffer = io.BytesIO()
        preview.save(buffer, format="JPEG", quality=70)
        return buffer.getvalue()
