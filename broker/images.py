"""Image bytes as they travel: encodings that respect Discord's upload limit, and the 2×2 grid,
assembled from its images and cut back into them."""

import io
from dataclasses import dataclass

from PIL import Image

from jobs import limits

_SMALLEST_SIDE = 64


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return self.content_type.removeprefix("image/").replace("jpeg", "jpg")


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


def fit(data: bytes, content_type: str, limit: int) -> Encoded:
    """`data` as it is when it fits `limit`; otherwise re-encoded, and scaled down if it must be."""
    if len(data) <= limit:
        return Encoded(data, content_type)
    image = Image.open(io.BytesIO(data))
    image.load()
    while True:
        try:
            return encode(image, limit)
        except ValueError:
            if min(image.size) * 3 // 4 < _SMALLEST_SIDE:
                raise
            image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)


def tile_grid(images: list[Image.Image]) -> Image.Image:
    """Images 1-4 laid out left to right, top to bottom, in a 2×2 grid."""
    if len(images) != limits.GRID_IMAGES:
        raise ValueError(f"a grid needs {limits.GRID_IMAGES} images, got {len(images)}")
    width, height = images[0].size
    grid = Image.new("RGB", (width * 2, height * 2))
    for index, image in enumerate(images):
        grid.paste(image.convert("RGB"), ((index % 2) * width, (index // 2) * height))
    return grid


def cut_image(data: bytes, index: int, count: int, *, largest: tuple[int, int] | None = None) -> Image.Image:
    """Image `index` of a posted result: the whole image when `count` is 1, else that tile of the
    2×2 grid (1-4, left to right, top to bottom). With `largest`, an image wider or taller than
    that is refused (ValueError) from its header, before its pixels are decoded."""
    grid = Image.open(io.BytesIO(data))
    if largest and (grid.width > largest[0] or grid.height > largest[1]):
        raise ValueError(f"a {grid.width}×{grid.height} image is larger than {largest[0]}×{largest[1]}")
    grid = grid.convert("RGB")
    if count == 1:
        return grid
    width, height = grid.width // 2, grid.height // 2
    left, top = ((index - 1) % 2) * width, ((index - 1) // 2) * height
    return grid.crop((left, top, left + width, top + height))


def _save(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()
