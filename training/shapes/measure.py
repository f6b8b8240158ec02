"""Reading a picture's scene back from its pixels: the background, and the shapes' colour, kind,
number, position and size. The evaluation compares this reading with what the prompt asked for."""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from training.shapes.scenes import COLOURS, POSITIONS, SIZES, Scene

_FOREGROUND = 60.0
"""RGB distance from the background beyond which a pixel belongs to a shape."""
_MIN_AREA = 0.004
"""Smallest shape worth counting, as a share of the image (specks of noise are not shapes)."""
_LARGE_WIDTH = sum(2 * half for half in SIZES.values()) / len(SIZES)
"""Bounding-box width (share of the side) between a small and a large shape."""
_NAMES = sorted(COLOURS)
_PALETTE = np.array([COLOURS[name] for name in _NAMES], dtype=float)


@dataclass(frozen=True)
class Reading:
    background: str
    count: int
    colour: str | None
    shape: str | None
    """The most common kind among the shapes."""
    size: str | None
    position: str | None
    """For a single shape: the named position nearest its centre."""


def read(image: Image.Image) -> Reading:
    pixels = np.asarray(image.convert("RGB"), dtype=float)
    side = pixels.shape[0]
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background_rgb = np.median(border, axis=0)
    mask = np.linalg.norm(pixels - background_rgb, axis=2) > _FOREGROUND
    labels, found = ndimage.label(mask)
    shapes = [labels == i for i in range(1, found + 1) if (labels == i).sum() >= _MIN_AREA * side * side]
    background = _nearest(background_rgb)
    if not shapes:
        return Reading(background, 0, None, None, None, None)
    union = np.any(shapes, axis=0)
    core = ndimage.binary_erosion(union) if ndimage.binary_erosion(union).any() else union
    kinds = [_kind(shape) for shape in shapes]
    widths = [np.ptp(np.nonzero(shape)[1]) + 1 for shape in shapes]
    position = None
    if len(shapes) == 1:
        rows, columns = np.nonzero(shapes[0])
        centre = np.array([columns.mean(), rows.mean()]) / side
        position = min(POSITIONS, key=lambda name: np.linalg.norm(centre - np.array(POSITIONS[name])))
    return Reading(
        background=background,
        count=len(shapes),
        colour=_nearest(np.median(pixels[core], axis=0)),
        shape=max(set(kinds), key=kinds.count),
        size="large" if np.median(widths) / side > _LARGE_WIDTH else "small",
        position=position,
    )


@dataclass(frozen=True)
class Accuracy:
    colour: float
    shape: float
    count: float
    position: float
    """Over the scenes whose caption names a position."""
    scenes: int

    def __str__(self) -> str:
        shares = (f"{name} {getattr(self, name):.0%}" for name in ("colour", "shape", "count", "position"))
        return f"{' · '.join(shares)} ({self.scenes} images)"


def accuracy(pairs: Iterable[tuple[Scene, Image.Image]]) -> Accuracy:
    """How often the pictures show what their scenes asked for, attribute by attribute."""
    hits = {"colour": 0, "shape": 0, "count": 0, "position": 0}
    scenes = positioned = 0
    for scene, image in pairs:
        reading = read(image)
        scenes += 1
        hits["colour"] += reading.colour == scene.colour
        hits["shape"] += reading.shape == scene.shape
        hits["count"] += reading.count == scene.count
        if scene.position:
            positioned += 1
            hits["position"] += reading.position == scene.position
    return Accuracy(
        colour=hits["colour"] / max(scenes, 1),
        shape=hits["shape"] / max(scenes, 1),
        count=hits["count"] / max(scenes, 1),
        position=hits["position"] / max(positioned, 1),
        scenes=scenes,
    )


def _nearest(rgb: np.ndarray) -> str:
    return _NAMES[int(np.argmin(np.linalg.norm(_PALETTE - rgb, axis=1)))]


def _kind(shape: np.ndarray) -> str:
    """The kind whose outline, drawn in the shape's bounding box, overlaps the shape best (highest
    intersection over union): robust to the soft edges a decoder draws, where a triangle's tips or a
    square's corners fade."""
    rows, columns = np.nonzero(shape)
    box = shape[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    y, x = np.mgrid[0 : box.shape[0], 0 : box.shape[1]]
    v, u = (y + 0.5) / box.shape[0], (x + 0.5) / box.shape[1]  # pixel centres in the box, 0…1
    outlines = {
        "square": np.ones_like(box),
        "circle": (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25,
        "triangle": np.abs(u - 0.5) <= v / 2,  # apex up, as the scenes draw them
    }
    overlap = {kind: (box & outline).sum() / (box | outline).sum() for kind, outline in outlines.items()}
    return max(overlap, key=overlap.__getitem__)
