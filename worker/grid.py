"""The 2×2 grid the four images are shown in."""

from PIL import Image

from jobs import limits


def tile_grid(images: list[Image.Image]) -> Image.Image:
    """Images 1-4 laid out left to right, top to bottom, in a 2×2 grid."""
    if len(images) != limits.GRID_IMAGES:
        raise ValueError(f"a grid needs {limits.GRID_IMAGES} images, got {len(images)}")
    width, height = images[0].size
    grid = Image.new("RGB", (width * 2, height * 2))
    for index, image in enumerate(images):
        grid.paste(image.convert("RGB"), ((index % 2) * width, (index // 2) * height))
    return grid
