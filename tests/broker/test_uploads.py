"""Images members give, read as untrusted bytes: the four accepted types, everything else refused
with a message, the pixel cap from the header, orientation and transparency made plain RGB."""

import io
import struct
import warnings
import zlib

import pytest
from PIL import Image

from broker.uploads import UploadError, read_image, read_mask
from jobs.errors import MemberError

LIMIT = 4096 * 4096  # 16.8 megapixels
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _saved(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A 1-bit greyscale PNG claiming `width`×`height`, with `idat` as its pixels (or none at all)."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    pixels = _chunk(b"IDAT", idat) if idat is not None else b""
    return b"\x89PNG\r\n\x1a\n" + header + pixels + _chunk(b"IEND", b"")


def _bomb(side: int) -> bytes:
    """A real PNG of `side`×`side` black pixels: a few kilobytes that decode to `side`² bytes."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then 1 bit a pixel
    return _png(side, side, zlib.compress(row * side, 9))


def _close(pixel: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 8) -> bool:
    return all(abs(got - want) <= tolerance for got, want in zip(pixel, expected, strict=True))


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_accepted_type_reads_as_rgb(image_format: str):
    image = read_image(_saved(Image.new("RGB", (32, 24), RED), image_format), max_pixels=LIMIT)
    assert (image.size, image.mode) == ((32, 24), "RGB")
    assert _close(image.getpixel((16, 12)), RED, tolerance=16)


def test_an_animated_gif_is_its_first_frame():
    frames = [Image.new("RGB", (16, 16), colour) for colour in (RED, BLUE, RED)]
    data = _saved(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert _close(read_image(data, max_pixels=LIMIT).getpixel((8, 8)), RED)


@pytest.mark.parametrize(
    "data",
    [
        _saved(Image.new("RGB", (8, 8)), "BMP"),
        _saved(Image.new("RGB", (8, 8)), "TIFF"),
        _saved(Image.new("RGB", (16, 16)), "ICO"),
        _saved(Image.new("RGB", (8, 8)), "PPM"),
        b"8BPS\x00\x01" + b"\x00" * 40,  # a Photoshop file's start
        b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>',
        b"<!doctype html><html><body>not an image</body></html>",
        b"",
    ],
    ids=["bmp", "tiff", "ico", "ppm", "psd", "svg", "html", "empty"],
)
def test_other_types_are_refused_by_their_bytes(data: bytes):
    with pytest.raises(UploadError, match=r"^the image isn't a PNG, JPEG, WebP or GIF image$"):
        read_image(data, max_pixels=LIMIT)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_truncated_files_are_refused_as_damaged(image_format: str):
    noise = Image.effect_noise((64, 64), 64).convert("RGB")
    data = _saved(noise, image_format)
    with pytest.raises(UploadError, match="is damaged or cut short"):
        read_image(data[: len(data) // 2], max_pixels=LIMIT)


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"\xff\xd8\xff" + b"junk" * 16, b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 "],
    ids=["png", "jpeg", "gif", "webp"],
)
def test_garbage_behind_a_right_magic_number_is_refused_as_damaged(data: bytes):
    with pytest.raises(UploadError, match="is damaged or cut short"):
        read_image(data, max_pixels=LIMIT)


def test_too_many_pixels_is_refused_from_the_header_with_the_size():
    # A header and no pixels at all: only the header can have been read.
    with pytest.raises(
        UploadError, match=r"^image 2 is 5000×4000 pixels; images can have at most 16\.8 megapixels$"
    ):
        read_image(_png(5000, 4000), max_pixels=LIMIT, what="image 2")


def test_a_header_claiming_100000_by_100000_is_refused():
    with pytest.raises(UploadError, match=r"has too many pixels; images can have at most 16\.8 megapixels"):
        read_image(_png(100_000, 100_000), max_pixels=LIMIT)


def test_a_real_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = _bomb(9_000)  # 81 megapixels in about 10 KB
    assert len(bomb) < 100_000
    with pytest.raises(UploadError, match="is 9000×9000 pixels"):
        read_image(bomb, max_pixels=LIMIT)


def test_pillows_own_ceiling_holds_where_ours_is_set_above_it():
    with pytest.raises(UploadError, match="has too many pixels"):  # 100 megapixels, over its 89.5
        read_image(_bomb(10_000), max_pixels=10**9)


def test_pillows_global_settings_are_left_alone():
    ceiling, filters = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    with pytest.raises(UploadError):
        read_image(_bomb(10_000), max_pixels=10**9)
    read_image(_saved(Image.new("RGB", (8, 8)), "PNG"), max_pixels=LIMIT)
    assert (Image.MAX_IMAGE_PIXELS, warnings.filters) == (ceiling, filters)


def test_an_image_at_the_limit_is_read():
    image = read_image(_bomb(1_000), max_pixels=1_000_000)
    assert (image.size, image.getpixel((500, 500))) == ((1_000, 1_000), (0, 0, 0))


def test_exif_orientation_is_applied():
    # Stored 40×20, left half red; Orientation 6 shows it turned 90° clockwise: 20×40, red on top.
    stored = Image.new("RGB", (40, 20), BLUE)
    stored.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    image = read_image(_saved(stored, "JPEG", exif=exif, quality=95), max_pixels=LIMIT)
    assert image.size == (20, 40)
    assert _close(image.getpixel((10, 8)), RED, tolerance=24)
    assert _close(image.getpixel((10, 32)), BLUE, tolerance=24)


@pytest.mark.parametrize(("mode", "clear"), [("RGBA", (0, 0, 0, 0)), ("LA", (0, 0))], ids=["rgba", "la"])
def test_transparency_is_flattened_onto_white(mode: str, clear: tuple[int, ...]):
    image = read_image(_saved(Image.new(mode, (8, 8), clear), "PNG"), max_pixels=LIMIT)
    assert (image.mode, image.getpixel((4, 4))) == ("RGB", WHITE)


def test_half_transparent_red_is_pink_on_white():
    image = read_image(_saved(Image.new("RGBA", (8, 8), (255, 0, 0, 128)), "PNG"), max_pixels=LIMIT)
    assert _close(image.getpixel((4, 4)), (255, 127, 127), tolerance=2)


def test_transparent_webp_is_flattened_onto_white():
    image = read_image(
        _saved(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), "WEBP", lossless=True), max_pixels=LIMIT
    )
    assert image.getpixel((4, 4)) == WHITE


@pytest.mark.parametrize("image_format", ["PNG", "GIF"])
def test_a_palette_with_a_transparent_entry_is_flattened_onto_white(image_format: str):
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0])  # entry 0 black (transparent), entry 1 red
    palette.paste(1, (0, 0, 4, 8))
    image = read_image(_saved(palette, image_format, transparency=0), max_pixels=LIMIT)
    assert (image.mode, image.getpixel((1, 4)), image.getpixel((6, 4))) == ("RGB", RED, WHITE)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    grey = Image.new("I;16", (4, 4), 32768)
    assert _close(read_image(_saved(grey, "PNG"), max_pixels=LIMIT).getpixel((0, 0)), (128, 128, 128), 1)


def test_the_result_is_loaded_and_detached_from_the_bytes():
    image = read_image(_saved(Image.new("RGB", (8, 8), RED), "PNG"), max_pixels=LIMIT)
    assert isinstance(image, Image.Image) and not hasattr(image, "fp")
    assert image.tobytes() == bytes(RED) * 64


def test_the_error_is_a_member_error_naming_the_image():
    with pytest.raises(UploadError) as caught:
        read_image(b"GIF", max_pixels=LIMIT, what="the attachment `cat.gif`")
    assert isinstance(caught.value, MemberError) and isinstance(caught.value, ValueError)
    assert caught.value.reply == (
        "I can't use that image: the attachment `cat.gif` isn't a PNG, JPEG, WebP or GIF image"
    )


def test_a_mask_with_transparency_repaints_where_it_is_transparent():
    mask = Image.new("RGBA", (8, 8), (0, 0, 0, 255))
    mask.paste((255, 255, 255, 0), (0, 0, 4, 8))
    read = read_mask(_saved(mask, "PNG"), max_pixels=LIMIT)
    assert read.mode == "L" and read.getpixel((1, 1)) == 255 and read.getpixel((6, 1)) == 0


def test_a_mask_without_transparency_repaints_where_it_is_light():
    mask = Image.new("L", (8, 8), 0)
    mask.paste(255, (0, 0, 4, 8))
    read = read_mask(_saved(mask, "JPEG", quality=95), max_pixels=LIMIT)
    assert set(read.histogram()[1:255]) == {0} and read.getpixel((1, 1)) == 255 and read.getpixel((6, 1)) == 0


def test_a_mask_is_checked_as_an_image_is():
    with pytest.raises(UploadError, match="the mask is 5000×5000 pixels"):
        read_mask(_saved(Image.new("L", (5000, 5000)), "PNG"), max_pixels=LIMIT)
