"""Zoom, pan, square and region jobs: their canvases' sizes, where the source sits on them, the
cells a region repaints, and the follow-ups refused in words for the member."""

import pytest

from jobs.canvas import Box, cell_boxes, placement
from jobs.prompt import parse_prompt
from jobs.resolve import (
    ResolveError,
    imagine_spec,
    pan_spec,
    region_spec,
    remixed,
    square_spec,
    upscale_spec,
    within_limits,
    zoom_spec,
)
from jobs.specs import Direction
from models.catalog import load_catalog

CATALOG = load_catalog()
PROFILE = CATALOG.get("tiny").profile()  # 64² native, sides on multiples of 8, at most 16384 px


def _grid(prompt: str = "a fox --seed 7"):
    return imagine_spec(parse_prompt(prompt), PROFILE)


@pytest.mark.parametrize(("factor", "box"), [(2.0, Box(16, 16, 32, 32)), (1.5, Box(10, 10, 43, 43))])
def test_a_zoom_shrinks_the_image_into_the_middle_of_a_canvas_of_the_grids_size(factor, box):
    spec = zoom_spec(_grid(), 2, factor)
    assert (spec.generation.width, spec.generation.height) == (64, 64)
    assert spec.generation.seed != 7 and spec.source.index == 2
    assert placement(spec, (64, 64)) == box
    assert placement(spec, (128, 128)) == box  # an upscaled source is fitted first


def test_a_zoom_of_an_upscale_paints_a_grid_at_the_size_it_was_upscaled_from():
    source = _grid()
    spec = zoom_spec(upscale_spec(source, 1, PROFILE), 1, 2.0)
    assert (spec.generation.width, spec.generation.height) == (64, 64)


@pytest.mark.parametrize("factor", [1.0, 2.5, 0.5])
def test_a_zoom_factor_outside_one_to_two_is_refused(factor):
    with pytest.raises(ResolveError, match="more than 1 and at most 2"):
        zoom_spec(_grid(), 1, factor)


@pytest.mark.parametrize(
    ("direction", "size", "box"),
    [
        (Direction.RIGHT, (96, 64), Box(0, 0, 64, 64)),
        (Direction.LEFT, (96, 64), Box(32, 0, 64, 64)),
        (Direction.DOWN, (64, 96), Box(0, 0, 64, 64)),
        (Direction.UP, (64, 96), Box(0, 32, 64, 64)),
    ],
)
def test_a_pan_grows_the_canvas_by_half_towards_its_direction_and_keeps_the_image_on_the_far_side(
    direction, size, box
):
    spec = pan_spec(_grid(), 1, direction, PROFILE)
    assert (spec.generation.width, spec.generation.height) == size
    assert placement(spec, (64, 64)) == box


def test_a_pan_stays_within_the_models_pixels_and_stops_at_the_widest_image():
    wide = _grid("a fox --ar 2:1")  # 96×48
    spec = pan_spec(wide, 1, Direction.RIGHT, PROFILE)
    assert (spec.generation.width, spec.generation.height) == (144, 48)
    again = pan_spec(spec, 1, Direction.RIGHT, PROFILE)  # 216 wide would pass 4:1
    assert (again.generation.width, again.generation.height) == (192, 48)
    with pytest.raises(ResolveError, match="can't be panned right any further"):
        pan_spec(again, 1, Direction.RIGHT, PROFILE)
    tall = pan_spec(_grid("a fox --ar 1:2"), 1, Direction.UP, PROFILE)  # 48×96 → 48×144
    assert tall.generation.width * tall.generation.height <= PROFILE.max_pixels
    assert pan_spec(_grid("a fox --ar 4:3"), 1, Direction.UP, PROFILE).generation.height > 64


def test_make_square_outpaints_the_short_side_and_refuses_a_square_image():
    spec = square_spec(_grid("a fox --ar 2:1"), 1, PROFILE)
    assert (spec.generation.width, spec.generation.height) == (96, 96)
    assert placement(spec, (96, 48)) == Box(0, 24, 96, 48)
    with pytest.raises(ResolveError, match="already square"):
        square_spec(_grid(), 1, PROFILE)


def test_region_cells_are_a_three_by_three_grid_counted_row_by_row():
    assert cell_boxes(frozenset({1}), (64, 64)) == [Box(0, 0, 21, 21)]
    assert cell_boxes(frozenset({5, 9}), (64, 64)) == [Box(21, 21, 22, 22), Box(43, 43, 21, 21)]
    spec = region_spec(_grid(), 3, frozenset({5}))
    assert spec.cells == {5} and spec.generation.prompt == _grid().generation.prompt
    for cells in (frozenset(), frozenset({0}), frozenset({10})):
        with pytest.raises(ResolveError, match="among 1-9"):
            region_spec(_grid(), 1, cells)


def test_a_remix_brings_the_new_prompt_and_says_which_parameters_it_leaves():
    source = _grid("a fox --no rain --seed 7")
    remix = remixed(source.generation, parse_prompt("a green square --no snow --ar 2:1 --seed 3"), CATALOG)
    spec = region_spec(source, 1, frozenset({5}), remix=remix)
    assert spec.generation.prompt[0].text == "a green square"
    assert spec.generation.negative == "snow"
    assert (spec.generation.width, spec.generation.height) == (64, 64)
    assert spec.generation.seed == 3  # the new prompt's seed starts the follow-up's four
    assert spec.warnings == ("`--ar` not used: a follow-up keeps its image's model, size and sampling",)
    assert region_spec(source, 1, frozenset({5})).generation.seed != 7  # without one, a fresh seed


def test_within_a_servers_largest_side_a_pan_is_lowered_and_a_zoom_refused():
    pan = pan_spec(_grid(), 1, Direction.RIGHT, PROFILE)
    lowered = within_limits(pan, max_side=64, max_steps=None, size_multiple=8)
    assert (lowered.generation.width, lowered.generation.height) == (64, 40)
    with pytest.raises(ResolveError, match="largest side is 32 px"):
        within_limits(zoom_spec(_grid(), 1, 2.0), max_side=32, max_steps=None, size_multiple=8)
