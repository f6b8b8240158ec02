"""Images members give, read as untrusted bytes: by the bot once it has fetched them, and again by
the worker, which trusts nothing it takes from Redis."""

import io
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageOps

from jobs.errors import MemberError

# What Pillow raises, besides the bomb errors, on bytes that are damaged or cut short.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


class UploadError(MemberError, ValueError):
    """An image a member gave that cannot be used; the message says why."""

    preface = "I can't use that image: "


def read_image(data: bytes, *, max_pixels: int, what: str = "the image") -> Image.Image:
    """`data` as a loaded RGB image, upright (its EXIF orientation applied) and any transparency
    flattened onto white; a GIF's first frame.

    Raises `UploadError` (never another error) for anything else: a type other than PNG, JPEG,
    WebP or GIF, told by its bytes; more than `max_pixels` pixels, refused from the header before
    anything is decoded; damaged or truncated data. `what` names the image in the message."""
    return _on_white(_opened(data, max_pixels, what))


def read_mask(data: bytes, *, max_pixels: int, what: str = "the mask") -> Image.Image:
    """`data`, checked as `read_image` checks an image, as a mask: "L", 255 where to repaint. With
    transparency, that is where it is (mostly) transparent, as OpenAI's masks mark it; without,
    where it is light, as inpainting masks usually are."""
    image = _opened(data, max_pixels, what)
    if image.has_transparency_data:
        alpha = image.convert("RGBA").getchannel("A")
        return alpha.point(lambda value: 255 if value < 128 else 0)
    return _grey(image).point(lambda value: 255 if value >= 128 else 0)


def _opened(data: bytes, max_pixels: int, what: str) -> Image.Image:
    image_format = _sniff(data)
    if image_format is None:
        raise UploadError(f"{what} isn't a PNG, JPEG, WebP or GIF image")
    with _refusing(what, max_pixels):
        image = Image.open(io.BytesIO(data), formats=[image_format])
    if image.width * image.height > max_pixels:
        raise UploadError(
            f"{what} is {image.width}×{image.height} pixels;"
            f" images can have at most {_megapixels(max_pixels)} megapixels"
        )
    with _refusing(what, max_pixels):
        image.load()
        return ImageOps.exif_transpose(image)


@contextmanager
def _refusing(what: str, max_pixels: int) -> Iterator[None]:
    """Pillow's errors on what it reads, as `UploadError`s."""
    with warnings.catch_warnings():
        # Pillow's own ceiling, as an error here only: the global setting is left as it is.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except _BOMB:
            raise UploadError(
                f"{what} has too many pixels; images can have at most {_megapixels(max_pixels)} megapixels"
            ) from None
        except _DAMAGED:
            raise UploadError(f"{what} is damaged or cut short") from None


def _sniff(data: bytes) -> str | None:
    """The Pillow format `data` starts like, among those accepted."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def _grey(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I;16"):  # 16-bit greyscale PNG: scaled to 8 bits, where RGB would clip
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("L")


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I;16"):
        image = _grey(image)
    if not image.has_transparency_data:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}".removesuffix(".0")
