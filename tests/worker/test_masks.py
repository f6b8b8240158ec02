"""The canvases of outpainting, region repaints and drawn masks: the mask covers everything the
feathered alpha lets through, the alpha is whole over the area asked for, and past the feather
every pixel is the source's own."""

import numpy as np
from PIL import Image

from jobs.canvas import placement
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec, inpaint_spec, pan_spec, region_spec, zoom_spec
from jobs.specs import Direction, UploadRef
from models.catalog import load_catalog
from worker.masks import feather_radius, mask_canvas, outpaint_canvas, region_canvas

PROFILE = load_catalog().get("tiny").profile()
SOURCE = imagine_spec(parse_prompt("a fox"), PROFILE)


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    return Image.fromarray(
        np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    )


def test_a_region_is_repainted_whole_in_its_cells_and_not_at_all_past_the_feather():
    canvas = region_canvas(_noise((64, 64)), region_spec(SOURCE, 1, frozenset({5})))
    alpha, mask = np.asarray(canvas.alpha), np.asarray(canvas.mask)
    radius = feather_radius((64, 64))
    assert (alpha[21:43, 21:43] == 255).all()  # cell 5
    assert (alpha[: 21 - 2 * radius] == 0).all() and (alpha[43 + 2 * radius :] == 0).all()
    assert 0 < alpha[21 - radius, 32] < 255  # fading across the feather
    assert (mask[alpha > 0] == 255).all()  # the pipeline repaints all that shows
    assert set(np.unique(mask)) == {0, 255}

    painted = canvas.laid_over(Image.new("RGB", (64, 64), (255, 0, 0)))
    kept = np.asarray(painted)[alpha == 0]
    assert (kept == np.asarray(canvas.image)[alpha == 0]).all()
    assert (np.asarray(painted)[alpha == 255] == (255, 0, 0)).all()


def test_an_outpaint_puts_the_source_in_its_box_and_paints_the_rest():
    spec = zoom_spec(SOURCE, 1, 2.0)
    source = _noise((128, 128), seed=1)  # an upscaled image: shrunk to fit first
    canvas = outpaint_canvas(source, spec)
    box = placement(spec, source.size)
    left, top, right, bottom = box.corners
    expected = np.asarray(source.resize((box.width, box.height), Image.Resampling.LANCZOS))
    assert (np.asarray(canvas.image)[top:bottom, left:right] == expected).all()
    alpha = np.asarray(canvas.alpha)
    radius = feather_radius((64, 64))
    assert (alpha[:top] == 255).all() and (alpha[bottom:] == 255).all()
    assert (alpha[top + 2 * radius : bottom - 2 * radius, left + 2 * radius : right - 2 * radius] == 0).all()


def test_a_pan_keeps_the_side_it_moves_away_from_untouched_to_the_canvas_edge():
    spec = pan_spec(SOURCE, 1, Direction.RIGHT, PROFILE)  # 96×64, the source on the left 64
    canvas = outpaint_canvas(_noise((64, 64)), spec)
    alpha = np.asarray(canvas.alpha)
    radius = feather_radius((96, 64))
    assert (alpha[:, : 64 - 2 * radius] == 0).all()  # no feather along the canvas's own edges
    assert (alpha[:, 64:] == 255).all()


def test_a_drawn_mask_is_repainted_whole_and_not_at_all_past_the_feather():
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (4, 4, 12, 28))  # a strip; the mask is stretched to the job's 64²
    upload = UploadRef(upload_id="0" * 32, index=1)
    spec = inpaint_spec(parse_prompt("a fox"), load_catalog(), upload, upload.model_copy(update={"index": 2}))
    canvas = mask_canvas(_noise((48, 48)), mask, spec)
    alpha, drawn = np.asarray(canvas.alpha), np.asarray(canvas.mask)
    radius = feather_radius((64, 64))
    assert canvas.image.size == (64, 64)
    assert (alpha[8:56, 8:24] == 255).all()  # the strip, at twice the size
    assert (alpha[:, 24 + 2 * radius :] == 0).all() and (alpha[56 + 2 * radius :] == 0).all()
    assert 0 < alpha[32, 24 + radius // 2] < 255  # fading across the feather
    assert (drawn[alpha > 0] == 255).all() and set(np.unique(drawn)) == {0, 255}
    painted = np.asarray(canvas.laid_over(Image.new("RGB", (64, 64), (255, 0, 0))))
    assert (painted[alpha == 0] == np.asarray(canvas.image)[alpha == 0]).all()
