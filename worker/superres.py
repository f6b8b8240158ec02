"""Super-resolution on the worker: a catalog upscaler loaded once and kept resident, upscaling
finished images tile by tile, so memory stays bounded whatever the image's size."""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from models.catalog import UpscalerEntry
from models.upscalers import load_upscaler

DEFAULT_TILE = 256
"""Input pixels a side per model call. With the overlap, a 4× ESRGAN's last feature maps are then
1280² × 64 channels, 0.2 GB each in half precision, whatever the image's size."""
DEFAULT_OVERLAP = 32
"""Input pixels of context each tile reads beyond its edges, then drops from its output. At least
the model's reach, so tiles join without seams (the compact models reach under 20 pixels)."""


class SuperResolution:
    """One upscaler resident on one device.

    Built from a catalog entry (`SuperResolution(catalog.upscaler(name), device=..., dtype=...)`,
    with the worker's device and dtype setting), it loads the weights once; `upscale` then takes any
    image and returns it `scale` times larger. Loading raises `models.upscalers.UpscalerError` when
    the weights are missing or do not fit the entry.
    """

    def __init__(
        self, entry: UpscalerEntry, *, device: torch.device | None = None, dtype: str = "auto"
    ) -> None:
        self.entry = entry
        self.model = load_upscaler(entry, device=device, dtype=dtype)

    @property
    def scale(self) -> int:
        return self.model.scale

    def upscale(
        self, image: Image.Image, *, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP
    ) -> Image.Image:
        """`image` (as RGB) `scale` times larger. Each model call sees at most `tile` + 2 × `overlap`
        pixels a side; the result is the same as one call on the whole image, to rounding, when
        `overlap` covers the model's reach."""
        if tile < 1 or overlap < 0:
            raise ValueError(f"tile must be ≥ 1 and overlap ≥ 0, not tile={tile}, overlap={overlap}")
        rgb = np.array(image.convert("RGB"))  # a copy: torch wants writable memory
        height, width = rgb.shape[:2]
        pixels = torch.from_numpy(rgb).permute(2, 0, 1)[None].to(self.model.device, self.model.dtype) / 255
        # The image's own edges get context too, its edge pixels repeated (Real-ESRGAN's tool pads
        # too, by reflection): with the zeros of a convolution's padding, a model sharpens the faint
        # frame a VAE decoder leaves around a picture into a line of another colour.
        padded = F.pad(pixels, (overlap,) * 4, mode="replicate") if overlap else pixels
        # The output is kept as 8-bit on the CPU: a 4× upscale of a large image would not fit the GPU.
        out = torch.empty((height * self.scale, width * self.scale, 3), dtype=torch.uint8)
        with torch.inference_mode():
            for top, bottom in _spans(height, tile):
                for left, right in _spans(width, tile):
                    window = padded[..., top : bottom + 2 * overlap, left : right + 2 * overlap]
                    out[self._pixels(top, bottom), self._pixels(left, right)] = self._tile(window, overlap)
        return Image.fromarray(out.numpy())

    def _tile(self, window: torch.Tensor, overlap: int) -> torch.Tensor:
        """`window` upscaled, less its `overlap` of context on each side, as 8-bit (H, W, 3)."""
        result = self.model(window)[0].float()
        margin = overlap * self.scale
        kept = result[:, margin : result.shape[1] - margin, margin : result.shape[2] - margin]
        # A half-precision overflow is a NaN: black rather than an arbitrary byte.
        kept = torch.nan_to_num(kept, nan=0.0).mul(255).round().clamp(0, 255)
        return kept.to(torch.uint8).permute(1, 2, 0).cpu()

    def _pixels(self, start: int, stop: int) -> slice:
        return slice(start * self.scale, stop * self.scale)


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    return [(start, min(start + tile, length)) for start in range(0, length, tile)]
