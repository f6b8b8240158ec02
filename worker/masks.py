"""The canvases of outpainting and region repaints: the picture the inpaint pipeline starts from,
the mask of what it repaints, and the feathered alpha its result is laid over the source with, so
no seam shows and every pixel beyond the feather is the source's own."""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageStat
from scipy import ndimage

from jobs.canvas import Box, Size, cell_boxes, placement
from jobs.specs import InpaintSpec, OutpaintSpec, RegionSpec

FEATHER = 0.03
"""The feather's width as a fraction of the canvas's shorter side (at least 2 px): the repaint
fades out over this much past the area asked for, and the pipeline repaints twice as far."""


@dataclass(frozen=True)
class Canvas:
    image: Image.Image
    """What the pipeline starts from: the source in place, RGB, at the output size."""
    mask: Image.Image
    """White where the pipeline repaints ("L")."""
    alpha: Image.Image
    """How much of the repaint shows over `image` ("L"): 255 over the area asked for, fading to 0
    within the mask."""

    def laid_over(self, painted: Image.Image) -> Image.Image:
        """`painted` (the pipeline's output) where the alpha says, `image` elsewhere."""
        return Image.composite(painted.convert("RGB"), self.image, self.alpha)


def outpaint_canvas(source: Image.Image, spec: OutpaintSpec) -> Canvas:
    """The source at its place on the spec's canvas (`jobs.canvas.placement`), the rest to paint,
    filled meanwhile with the source's mean colour."""
    size = (spec.generation.width, spec.generation.height)
    box = placement(spec, source.size)
    fill = tuple(round(channel) for channel in ImageStat.Stat(source.convert("RGB")).mean)
    image = Image.new("RGB", size, fill)
    image.paste(
        source.convert("RGB").resize((box.width, box.height), Image.Resampling.LANCZOS), box.corners[:2]
    )
    return _feathered(image, _around(box, size))


def region_canvas(source: Image.Image, spec: RegionSpec) -> Canvas:
    """The source at the spec's size, its `cells` to repaint."""
    size = (spec.generation.width, spec.generation.height)
    image = source.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    return _feathered(image, cell_boxes(spec.cells, size))


def mask_canvas(source: Image.Image, mask: Image.Image, spec: InpaintSpec) -> Canvas:
    """The source at the spec's size, repainted where `mask` (stretched to it) is white."""
    size = (spec.generation.width, spec.generation.height)
    image = source.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    asked = np.asarray(mask.convert("L").resize(size, Image.Resampling.BILINEAR)) >= 128
    radius = feather_radius(size)
    alpha = _grown(asked, radius).filter(ImageFilter.BoxBlur(radius))
    return Canvas(image=image, mask=_grown(asked, 2 * radius), alpha=alpha)


def feather_radius(size: Size) -> int:
    return max(2, round(FEATHER * min(size)))


def _feathered(image: Image.Image, repaint: list[Box]) -> Canvas:
    # Boxes are grown rather than masks dilated: exact for rectangles, and free at any size.
    radius = feather_radius(image.size)
    alpha = _drawn(image.size, repaint, radius).filter(ImageFilter.BoxBlur(radius))
    return Canvas(image=image, mask=_drawn(image.size, repaint, 2 * radius), alpha=alpha)


def _grown(asked: np.ndarray, by: int) -> Image.Image:
    """The mask `asked` grown by `by` pixels every way, as `_drawn` grows boxes."""
    grown = ndimage.maximum_filter(asked.astype(np.uint8), size=2 * by + 1)
    return Image.fromarray(grown * np.uint8(255))


def _drawn(size: Size, boxes: list[Box], grown: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for box in boxes:
        left, top, right, bottom = box.corners
        draw.rectangle((left - grown, top - grown, right + grown - 1, bottom + grown - 1), fill=255)
    return mask


def _around(box: Box, size: Size) -> list[Box]:
    """The canvas outside `box`, as up to four strips."""
    width, height = size
    left, top, right, bottom = box.corners
    strips = [Box(0, 0, left, height), Box(right, 0, width - right, height)]
    strips += [Box(left, 0, box.width, top), Box(left, bottom, box.width, height - bottom)]
    return [strip for strip in strips if strip.width > 0 and strip.height > 0]
