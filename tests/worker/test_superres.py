"""The worker's upscaler: the shipped `shapes-2x` through `SuperResolution`, tiled and not, and the
claim its model card makes: better than Lanczos on held-out scenes, reading the same shapes."""

import numpy as np
import pytest
import torch
from PIL import Image

from models.catalog import load_catalog
from training.shapes.measure import read
from training.superres.data import held_out_pairs, psnr
from training.superres.evaluate import generated
from worker.superres import SuperResolution


@pytest.fixture(scope="module")
def upscaler() -> SuperResolution:
    return SuperResolution(load_catalog().upscaler("shapes-2x"), device=torch.device("cpu"))


def _difference(a: Image.Image, b: Image.Image) -> np.ndarray:
    return np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int))


def test_an_upscale_is_the_model_scale_larger_and_rgb(upscaler: SuperResolution) -> None:
    image = Image.new("L", (40, 24), 128)
    result = upscaler.upscale(image)
    assert (result.size, result.mode) == ((80, 48), "RGB")


def test_tiles_join_as_one_call_on_the_whole_image(upscaler: SuperResolution) -> None:
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (48, 80, 3), dtype=np.uint8))
    whole = upscaler.upscale(image, tile=1000)
    tiled = upscaler.upscale(image, tile=32, overlap=24)  # 2 × 3 tiles, some of them partial
    assert _difference(tiled, whole).max() <= 1  # rounding of the last bit, at most
    # Without context at their edges the tiles show seams: the overlap is what joins them.
    assert _difference(upscaler.upscale(image, tile=32, overlap=0), whole).max() > 8


def test_it_runs_in_bfloat16_as_in_fp32(upscaler: SuperResolution) -> None:
    low = held_out_pairs(1)[0][1]
    half = SuperResolution(upscaler.entry, device=torch.device("cpu"), dtype="bf16")
    assert half.model.dtype == torch.bfloat16
    assert _difference(half.upscale(low), upscaler.upscale(low)).mean() < 2


def test_a_bad_tile_is_refused(upscaler: SuperResolution) -> None:
    with pytest.raises(ValueError, match="tile must be ≥ 1 and overlap ≥ 0, not tile=0, overlap=8"):
        upscaler.upscale(Image.new("RGB", (8, 8)), tile=0, overlap=8)


def test_it_beats_lanczos_by_2_db_on_held_out_scenes_and_reads_the_same(upscaler: SuperResolution) -> None:
    gains = []
    for scene, low, high in held_out_pairs(8):
        ours = upscaler.upscale(low)
        lanczos = low.resize(high.size, Image.Resampling.LANCZOS)
        gains.append(psnr(ours, high) - psnr(lanczos, high))
        reading = read(ours)
        assert (reading.colour, reading.shape, reading.count) == (scene.colour, scene.shape, scene.count)
    assert np.mean(gains) >= 2.0, f"PSNR gains over Lanczos: {np.round(gains, 2)}"


def test_pictures_the_shapes_model_draws_read_the_same_upscaled(upscaler: SuperResolution) -> None:
    # Captions 14 and 15 with their seeds: pictures whose decoder-drawn frame the model once turned
    # into a line of another colour, which the reader took for shapes (before edges were padded).
    for image in generated(2, first=14):
        assert read(upscaler.upscale(image)) == read(image)
