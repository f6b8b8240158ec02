"""The grid layout."""

import pytest
from PIL import Image

from worker.grid import tile_grid


def test_images_are_laid_out_left_to_right_top_to_bottom():
    colours = ["red", "green", "blue", "white"]
    grid = tile_grid([Image.new("RGB", (8, 6), colour) for colour in colours])
    assert grid.size == (16, 12)
    corners = [grid.getpixel((x, y)) for x, y in [(0, 0), (8, 0), (0, 6), (8, 6)]]
    assert corners == [(255, 0, 0), (0, 128, 0), (0, 0, 255), (255, 255, 255)]


def test_a_grid_needs_four_images():
    with pytest.raises(ValueError, match="needs 4 images"):
        tile_grid([Image.new("RGB", (8, 8))] * 3)
