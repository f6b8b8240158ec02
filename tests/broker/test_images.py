"""Encodings that respect Discord's upload limit, and the grid: assembled, and cut back into images."""

import io
import os

import pytest
from PIL import Image

from broker.images import cut_image, encode, fit, tile_grid


def _noise(size: int) -> Image.Image:
    return Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_png_when_it_fits():
    encoded = encode(Image.new("RGB", (64, 64), "red"))
    assert encoded.content_type == "image/png"
    assert Image.open(io.BytesIO(encoded.data)).format == "PNG"


def test_webp_when_the_png_would_be_too_large():
    image = _noise(256)  # noise does not compress: the PNG is about 196 KB
    encoded = encode(image, limit=100_000)
    assert encoded.content_type == "image/webp"
    assert len(encoded.data) <= 100_000
    assert Image.open(io.BytesIO(encoded.data)).size == (256, 256)


def test_too_large_for_any_encoding_says_so():
    with pytest.raises(ValueError, match="does not fit"):
        encode(_noise(256), limit=1_000)


def test_fit_keeps_bytes_that_already_fit():
    data = _png(Image.new("RGB", (32, 32), "red"))
    assert fit(data, "image/png", len(data)).data == data


def test_fit_scales_down_what_no_encoding_can_squeeze():
    data = _png(_noise(512))  # about 786 KB of PNG; WebP alone gets nowhere near 40 KB
    fitted = fit(data, "image/png", 40_000)
    assert len(fitted.data) <= 40_000
    image = Image.open(io.BytesIO(fitted.data))
    assert image.width < 512
    assert image.width == image.height


def test_cut_image_takes_grid_tiles_left_to_right_top_to_bottom():
    grid = Image.new("RGB", (16, 12))
    for index, colour in enumerate(["red", "green", "blue", "white"]):
        grid.paste(Image.new("RGB", (8, 6), colour), ((index % 2) * 8, (index // 2) * 6))
    tiles = [cut_image(_png(grid), index, 4) for index in range(1, 5)]
    assert [tile.size for tile in tiles] == [(8, 6)] * 4
    assert [tile.getpixel((4, 3)) for tile in tiles] == [
        (255, 0, 0),
        (0, 128, 0),
        (0, 0, 255),
        (255, 255, 255),
    ]


def test_cut_image_of_a_single_image_is_the_image():
    assert cut_image(_png(Image.new("RGB", (8, 6), "red")), 1, 1).size == (8, 6)


def test_grid_images_are_laid_out_left_to_right_top_to_bottom():
    colours = ["red", "green", "blue", "white"]
    grid = tile_grid([Image.new("RGB", (8, 6), colour) for colour in colours])
    assert grid.size == (16, 12)
    corners = [grid.getpixel((x, y)) for x, y in [(0, 0), (8, 0), (0, 6), (8, 6)]]
    assert corners == [(255, 0, 0), (0, 128, 0), (0, 0, 255), (255, 255, 255)]


def test_a_grid_needs_four_images():
    with pytest.raises(ValueError, match="needs 4 images"):
        tile_grid([Image.new("RGB", (8, 8))] * 3)


def test_a_cut_grid_gives_back_each_image():
    colours = ["red", "green", "blue", "white"]
    grid = tile_grid([Image.new("RGB", (8, 6), colour) for colour in colours])
    for index, colour in enumerate(colours, start=1):
        expected = Image.new("RGB", (1, 1), colour).getpixel((0, 0))
        assert cut_image(_png(grid), index, 4).getpixel((4, 3)) == expected
