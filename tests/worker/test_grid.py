"""The grid layout, and encodings that respect Discord's upload limit."""

import io
import os

import pytest
from PIL import Image

from worker.grid import encode, tile_grid


def _noise(size: int) -> Image.Image:
    return Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))


def test_images_are_laid_out_left_to_right_top_to_bottom():
    colours = ["red", "green", "blue", "white"]
    grid = tile_grid([Image.new("RGB", (8, 6), colour) for colour in colours])
    assert grid.size == (16, 12)
    corners = [grid.getpixel((x, y)) for x, y in [(0, 0), (8, 0), (0, 6), (8, 6)]]
    assert corners == [(255, 0, 0), (0, 128, 0), (0, 0, 255), (255, 255, 255)]


def test_a_grid_needs_four_images():
    with pytest.raises(ValueError, match="needs 4 images"):
        tile_grid([Image.new("RGB", (8, 8))] * 3)


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
