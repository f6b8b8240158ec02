"""Image encodings a client may ask for, from the stored PNGs."""

import io
from typing import Literal

from PIL import Image

OutputFormat = Literal["png", "webp", "jpeg"]
CONTENT_TYPES: dict[str, str] = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}


def encoded(data: bytes, output_format: OutputFormat, compression: int | None = None) -> bytes:
    """The stored image `data` as `output_format` (as stored when that is PNG); `compression` 0-100
    as OpenAI means it (100: the most), for WebP and JPEG."""
    if output_format == "png":
        return data
    image = Image.open(io.BytesIO(data)).convert("RGB")
    quality = 100 - compression if compression is not None else 90
    buffer = io.BytesIO()
    image.save(buffer, format=output_format.upper(), quality=max(1, quality))
    return buffer.getvalue()
