"""Where a source image sits on the canvas of a zoom, pan or square job, how large those canvases
get, and which pixels a region job repaints: plain geometry, shared by the resolver that sizes a job
and the worker that paints it."""

import math
from dataclasses import dataclass

from jobs import limits
from jobs.specs import Direction, OutpaintSpec, PanSpec, ZoomSpec

Size = tuple[int, int]
"""Width and height in pixels."""

_CELLS_PER_SIDE = math.isqrt(limits.REGION_CELLS)


class CanvasError(ValueError):
    """The canvas cannot be made (no room left to pan that way, an image already square); the
    message is a sentence for the member."""


@dataclass(frozen=True)
class Box:
    """A rectangle of a canvas, in pixels."""

    left: int
    top: int
    width: int
    height: int

    @property
    def corners(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), as Pillow takes a box."""
        return self.left, self.top, self.left + self.width, self.top + self.height


def placement(spec: OutpaintSpec, source: Size) -> Box:
    """Where an image of size `source` goes on the canvas of `spec` (its generation's size): scaled
    to fit it, then shrunk by a zoom's factor and centred, set against the side a pan moves away
    from, or centred in a square."""
    canvas = (spec.generation.width, spec.generation.height)
    fit = min(canvas[0] / source[0], canvas[1] / source[1])
    shrink = spec.factor if isinstance(spec, ZoomSpec) else 1.0
    width = max(1, min(canvas[0], round(source[0] * fit / shrink)))
    height = max(1, min(canvas[1], round(source[1] * fit / shrink)))
    left, top = (canvas[0] - width) // 2, (canvas[1] - height) // 2
    if isinstance(spec, PanSpec):
        left = {Direction.LEFT: canvas[0] - width, Direction.RIGHT: 0}.get(spec.direction, left)
        top = {Direction.UP: canvas[1] - height, Direction.DOWN: 0}.get(spec.direction, top)
    return Box(left, top, width, height)


def pan_size(image: Size, direction: Direction, *, max_pixels: int, multiple: int) -> Size:
    """The canvas a pan of an `image`-sized picture paints: half a side larger in `direction`,
    within `max_pixels` and the widest aspect ratio (both sides lowered to fit, on `multiple`)."""
    horizontal = direction in (Direction.LEFT, Direction.RIGHT)
    width, height = image
    along, across = (width, height) if horizontal else (height, width)
    short = _on_grid(across, multiple)
    long = min(
        _on_grid(along * (1 + limits.PAN_GROWTH), multiple), _down(limits.ASPECT_MAX_RATIO * short, multiple)
    )
    new = (long, short) if horizontal else (short, long)
    if new[0] * new[1] > max_pixels:
        scale = math.sqrt(max_pixels / (new[0] * new[1]))
        new = (_down(new[0] * scale, multiple), _down(new[1] * scale, multiple))
    axis = 0 if horizontal else 1
    before, after = image[axis] / image[1 - axis], new[axis] / new[1 - axis]
    if after <= before * (1 + 1 / 16):  # less than a sixteenth more to show: not a pan
        raise CanvasError(
            f"This image can't be panned {direction.value} any further: it is as "
            f"{'wide' if horizontal else 'tall'} as this model makes images."
        )
    return new


def square_size(image: Size, *, max_pixels: int, multiple: int) -> Size:
    """The square canvas of Make Square: as large as the image's longer side, within `max_pixels`."""
    width, height = image
    if width == height:
        raise CanvasError("This image is already square.")
    side = min(_on_grid(max(width, height), multiple), _down(math.sqrt(max_pixels), multiple))
    return side, side


def cell_boxes(cells: frozenset[int], canvas: Size) -> list[Box]:
    """The boxes of `cells` (1-9, row by row) of a 3 × 3 grid over the canvas."""
    width, height = canvas
    boxes = []
    for cell in sorted(cells):
        row, column = divmod(cell - 1, _CELLS_PER_SIDE)
        left, right = (round(width * c / _CELLS_PER_SIDE) for c in (column, column + 1))
        top, bottom = (round(height * r / _CELLS_PER_SIDE) for r in (row, row + 1))
        boxes.append(Box(left, top, right - left, bottom - top))
    return boxes


def _on_grid(side: float, multiple: int) -> int:
    return max(multiple, round(side / multiple) * multiple)


def _down(side: float, multiple: int) -> int:
    return max(multiple, int(side // multiple) * multiple)
