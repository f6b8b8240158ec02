"""Image sizes for an aspect ratio at about a model's native pixel count."""

import math
from fractions import Fraction

from jobs import limits

_RATIO_TIE = 1e-9
"""Ratio errors closer than this count as equal, so the pixel count decides."""


def size_for_aspect(
    aspect: tuple[int, int] | None, native: tuple[int, int], multiple: int = 64
) -> tuple[int, int]:
    """The width and height closest to `aspect` in ratio, at about the native pixel count.

    Both are multiples of `multiple` (at least one multiple each); without an aspect, `native` is
    returned as it is.
    """
    if aspect is None:
        return native
    ratio = aspect[0] / aspect[1]
    pixels = native[0] * native[1]
    candidates = [
        (width, height)
        for width in _multiples_around(math.sqrt(pixels * ratio), multiple)
        for height in _multiples_around(math.sqrt(pixels / ratio), multiple)
    ]

    def ratio_error(size: tuple[int, int]) -> float:
        return abs(math.log(size[0] / size[1]) - math.log(ratio))

    best = min(map(ratio_error, candidates))
    return min(
        (size for size in candidates if ratio_error(size) <= best + _RATIO_TIE),
        # Equally near above and below: take the smaller, which is cheaper to run.
        key=lambda size: (abs(size[0] * size[1] - pixels), size[0] * size[1]),
    )


def _multiples_around(ideal: float, multiple: int) -> list[int]:
    """The multiples of `multiple` just below and above `ideal`, none smaller than `multiple`."""
    below = max(1, math.floor(ideal / multiple))
    return sorted({below * multiple, max(below, math.ceil(ideal / multiple)) * multiple})


def aspect_of(width: int, height: int, *, largest_term: int = 16) -> tuple[int, int]:
    """The simple ratio closest to `width`:`height`, terms at most `largest_term` (1024×683 → 3:2),
    within the 4:1 limit, for a prompt written from an image (`--ar`)."""
    wide = min(max(width / height, 1 / limits.ASPECT_MAX_RATIO), limits.ASPECT_MAX_RATIO)
    ratio = Fraction(wide).limit_denominator(largest_term)
    while max(ratio.numerator, ratio.denominator) > largest_term:
        ratio = Fraction(wide).limit_denominator(ratio.denominator - 1)
    return ratio.numerator, ratio.denominator
