"""The 2×2 grid, and image encoding that stays under Discord's upload limit."""

import io
from dataclasses import dataclass

from PIL import Image

from jobs import limits


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str


def tile_grid(images: list[Image.Image]) -> Image.Image:
    """Images 1-4 laid out left to right, top to bottom, in a 2×2 grid."""
    if len(images) != limits.GRID_IMAGES:
        raise ValueError(f"a grid needs {limits.GRID_IMAGES} images, got {len(images)}")
    width, height = images[0].size
    grid = Image.new("RGB", (width * 2, height * 2))
    for index, image in enumerate(images):
        grid.paste(image.convert("RGB"), ((index % 2) * width, (index // 2) * height))
    return grid


def encode(image: Image.Image, limit: int = limits.UPLOAD_LIMIT_BYTES) -> Encoded:
    """PNG, or lossy WebP at the best quality that fits `limit` when the PNG would not."""
    png = _save(image, "PNG", optimize=False, compress_level=6)
    if len(png) <= limit:
        return Encoded(png, "image/png")
    for quality in (95, 90, 80, 70, 50):
        webp = _save(image, "WEBP", quality=quality, method=4)
        if len(webp) <= limit:
            return Encoded(webp, "image/webp")
    raise ValueError(f"a {image.width}×{image.height} image does not fit in {limit} bytes")


def _save(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()
