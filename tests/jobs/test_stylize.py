"""`--s`, `--raw`, `--hd`/`--sd`, `--w` and the lanes, resolved against a catalog: the house style
at `--s`'s strength, the guidance where there is none, the catalog's HD size, and notes for what
has no effect."""

import pytest

from jobs.lanes import Lane
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs, remixed, style_links
from jobs.specs import UploadRef
from jobs.stylize import strength, stylized_guidance
from models.catalog import Catalog, load_catalog

HOUSE = "{prompt}, oil painting, warm light"


def _catalog(**tiny: object) -> Catalog:
    catalog = load_catalog().model_dump()
    catalog["default"] = "tiny"
    catalog["loras"] = [{"name": "glow", "families": ["sd15"], "source": {"kind": "folder", "path": "/x"}}]
    catalog["styles"] = [
        {"name": "house", "prompt": HOUSE, "negative": "blur", "loras": [{"name": "glow", "weight": 0.8}]},
        {"name": "ink", "prompt": "ink drawing of {prompt}"},
    ]
    for model in catalog["models"]:
        if model["name"] == "tiny":
            model.update(tiny)
    return Catalog.model_validate(catalog)


HOUSED = _catalog(house_style="house", hd_width=96, hd_height=96)
PLAIN = load_catalog()


def _spec(prompt: str, catalog: Catalog = HOUSED):
    (spec,) = imagine_specs(parse_prompt(prompt), catalog, seed=1)
    return spec


@pytest.mark.parametrize(
    ("stylize", "expected"), [(0, 0), (50, 0.5), (100, 1), (250, 1 + 150 / 900), (1000, 2)]
)
def test_the_curve_runs_from_no_style_through_the_catalog_s_to_twice_it(stylize: int, expected: float):
    assert strength(stylize) == pytest.approx(expected)


def test_the_house_style_applies_as_written_at_the_default():
    spec = _spec("a fox")
    assert spec.generation.prompt[0].text == "a fox, oil painting, warm light"
    assert spec.generation.negative == "blur"
    assert [(lora.name, lora.weight) for lora in spec.generation.loras] == [("glow", 0.8)]
    assert spec.warnings == ()


@pytest.mark.parametrize(("stylize", "weight", "lora"), [(50, "0.5", 0.4), (1000, "2", 1.6)])
def test_stylize_weights_the_style_s_words_and_its_loras(stylize: int, weight: str, lora: float):
    spec = _spec(f"a fox --s {stylize}")
    assert spec.generation.prompt[0].text == f"a fox, (oil painting, warm light:{weight})"
    assert spec.generation.loras[0].weight == pytest.approx(lora)


@pytest.mark.parametrize("prompt", ["a fox --raw", "a fox --style raw", "a fox --s 0"])
def test_raw_and_stylize_zero_leave_the_house_style_out(prompt: str):
    spec = _spec(prompt)
    assert (spec.generation.prompt[0].text, spec.generation.loras, spec.generation.negative) == (
        "a fox",
        (),
        "",
    )


def test_a_named_style_takes_the_house_style_s_place_at_stylize_s_strength():
    assert _spec("a fox --style ink --s 1000").generation.prompt[0].text == "(ink drawing of:2) a fox"


def test_without_a_style_stylize_moves_the_guidance_the_way_midjourney_s_reads():
    guidance = PLAIN.profile().guidance
    assert _spec("a fox --s 100", PLAIN).generation.guidance == guidance
    assert (
        _spec("a fox --s 0", PLAIN).generation.guidance == stylized_guidance(guidance, 0) == guidance * 1.25
    )
    assert _spec("a fox --s 1000", PLAIN).generation.guidance == guidance * 0.75
    assert _spec("a fox --raw --s 1000", HOUSED).generation.guidance == stylized_guidance(
        HOUSED.profile().guidance, 1000
    )


@pytest.mark.parametrize(
    ("prompt", "note"),
    [
        ("a fox --s 300 --cfg 4", "`--s 300` has no effect here: `--cfg` sets the guidance"),
        ("a fox --raw", "`--raw` has no effect here: `shapes` has no house style"),
        ("a fox --hd", "`--hd` has no effect here: the catalog names no HD size for `shapes`"),
    ],
)
def test_what_has_no_effect_is_noted(prompt: str, note: str):
    assert _spec(prompt, PLAIN).warnings == (note,)


def test_hd_draws_at_the_catalog_s_hd_size_shaped_by_the_aspect_ratio():
    assert (_spec("a fox --hd").generation.width, _spec("a fox --hd").generation.height) == (96, 96)
    wide = _spec("a fox --hd --ar 2:1").generation
    assert wide.width > 2 * wide.height * 0.9 and wide.width * wide.height <= 96 * 96 * 1.1
    assert (_spec("a fox --sd").generation.width, _spec("a fox --sd").generation.height) == (64, 64)


def test_an_hd_size_past_the_model_s_pixels_is_refused_naming_it():
    with pytest.raises(ValueError, match="HD size 256×256 is over its `max_pixels`"):
        _catalog(hd_width=256, hd_height=256)


def test_weird_and_the_lane_reach_the_job():
    spec = _spec("a fox --w 750 --relax")
    assert (spec.generation.weird, spec.lane) == (750, Lane.RELAX)
    assert _spec("a fox").lane is Lane.FAST


def test_a_remix_notes_the_new_midjourney_parameters_it_cannot_use():
    source = _spec("a fox")
    remix = remixed(source.generation, parse_prompt("a wolf --s 500 --w 10 --hd --relax"), HOUSED)
    assert remix.notes == (
        "`--s`, `--w`, `--hd/--sd`, `--fast/--relax/--turbo` not used: a follow-up keeps its image's"
        " model, size and sampling",
    )


def test_character_and_omni_references_go_through_the_image_adapter_as_style_references_do():
    parsed = parse_prompt(
        "a cat --cref https://a.example/x.png --oref <https://b.example/y.png> --ow 300 --model shapes"
    )
    assert style_links(parsed, PLAIN) == ("https://a.example/x.png", "https://b.example/y.png")
    stored = (UploadRef(upload_id="0" * 32, index=1), UploadRef(upload_id="0" * 32, index=2))
    (spec,) = imagine_specs(parsed, PLAIN, seed=1, style_images=stored)
    assert (spec.style_images, spec.style_weight, spec.warnings) == (stored, 300, ())


def test_references_on_a_model_without_an_adapter_are_noted_not_refused():
    parsed = parse_prompt("a cat --oref https://b.example/y.png --cw 20 --model tiny")
    assert style_links(parsed, PLAIN) == ()
    assert _spec("a cat --oref https://b.example/y.png --model tiny", PLAIN).warnings == (
        "`--oref` has no effect here:"
        " `tiny` has no image adapter, so give the image first in the prompt instead",
    )
    assert parsed.unmapped == ("--cw 20",)
