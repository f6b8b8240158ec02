import math

import pytest

from jobs import limits
from jobs.sizing import size_for_aspect

SD15 = (512, 512)
SD2 = (768, 768)
SDXL = (1024, 1024)


@pytest.mark.parametrize(
    ("aspect", "native", "multiple", "size"),
    [
        pytest.param(None, SD15, 64, SD15, id="none-is-native"),
        pytest.param(None, (832, 1216), 64, (832, 1216), id="none-keeps-portrait-native"),
        pytest.param((1, 1), SD15, 64, (512, 512), id="sd15-1:1"),
        pytest.param((7, 7), SD15, 64, (512, 512), id="sd15-7:7-unreduced"),
        pytest.param((3, 2), SD15, 64, (576, 384), id="sd15-3:2"),
        pytest.param((2, 3), SD15, 64, (384, 576), id="sd15-2:3"),
        pytest.param((16, 9), SD15, 64, (704, 384), id="sd15-16:9"),
        pytest.param((9, 16), SD15, 64, (384, 704), id="sd15-9:16"),
        pytest.param((4, 3), SD15, 64, (576, 448), id="sd15-4:3"),
        pytest.param((21, 9), SD15, 64, (768, 320), id="sd15-21:9"),
        pytest.param((4, 1), SD15, 64, (1024, 256), id="sd15-4:1"),
        pytest.param((1, 4), SD15, 64, (256, 1024), id="sd15-1:4"),
        pytest.param((16, 9), SD2, 64, (1024, 576), id="sd2-16:9"),
        pytest.param((4, 3), SD2, 64, (832, 640), id="sd2-4:3"),
        pytest.param((1, 1), SDXL, 64, (1024, 1024), id="sdxl-1:1"),
        pytest.param((16, 9), SDXL, 64, (1344, 768), id="sdxl-16:9"),
        pytest.param((9, 16), SDXL, 64, (768, 1344), id="sdxl-9:16"),
        pytest.param((3, 2), SDXL, 64, (1280, 832), id="sdxl-3:2"),
        pytest.param((4, 3), SDXL, 64, (1216, 896), id="sdxl-4:3"),
        pytest.param((21, 9), SDXL, 64, (1600, 704), id="sdxl-21:9"),
        # Both 576x576 and 640x640 are exactly square: the pixel count (393216) picks 640x640.
        pytest.param((1, 1), (512, 768), 64, (640, 640), id="ratio-tie-nearer-pixel-count"),
        pytest.param((16, 9), SD15, 8, (680, 384), id="multiple-8"),
        pytest.param((4, 1), (64, 64), 64, (128, 64), id="at-least-one-multiple"),
    ],
)
def test_size(
    aspect: tuple[int, int] | None, native: tuple[int, int], multiple: int, size: tuple[int, int]
) -> None:
    assert size_for_aspect(aspect, native, multiple) == size


RATIOS = [
    (w, h)
    for w in range(1, 25)
    for h in range(1, 25)
    if 1 / limits.ASPECT_MAX_RATIO <= w / h <= limits.ASPECT_MAX_RATIO
]


@pytest.mark.parametrize(
    ("native", "ratio_error", "fewest", "most"),
    [
        # Smaller natives have coarser steps of 64, so looser bounds.
        pytest.param(SD15, 0.08, 0.84, 1.25, id="sd15"),
        pytest.param(SD2, 0.05, 0.87, 1.17, id="sd2"),
        pytest.param(SDXL, 0.045, 0.90, 1.12, id="sdxl"),
        pytest.param((512, 768), 0.07, 0.83, 1.17, id="portrait-native"),
    ],
)
def test_every_ratio_is_near_in_shape_and_pixel_count(
    native: tuple[int, int], ratio_error: float, fewest: float, most: float
) -> None:
    pixels = native[0] * native[1]
    for aspect in RATIOS:
        width, height = size_for_aspect(aspect, native)
        assert (width % 64, height % 64) == (0, 0), aspect
        assert abs(math.log(width / height) - math.log(aspect[0] / aspect[1])) <= ratio_error, aspect
        assert fewest * pixels <= width * height <= most * pixels, aspect


def test_orientation_is_symmetric() -> None:
    for aspect in RATIOS:
        width, height = size_for_aspect(aspect, SDXL)
        assert size_for_aspect((aspect[1], aspect[0]), SDXL) == (height, width), aspect
