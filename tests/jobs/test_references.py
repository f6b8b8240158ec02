"""`--sref <link>::2`: each reference's relative weight, read as Midjourney writes it and carried
in the job's spec in the order of its style images."""

import pytest
from pydantic import ValidationError

from jobs.prompt import PromptError, parse_prompt
from jobs.references import Reference, read_references
from jobs.resolve import imagine_specs, reroll_spec, style_links
from jobs.specs import ImagineSpec, UploadRef
from tests.jobs.test_stylize import PLAIN

A, B, C = "https://a.example/x.png", "https://b.example/y.png", "https://c.example/z.png"


@pytest.mark.parametrize(
    ("text", "references"),
    [
        pytest.param(f"{A} {B}", [(A, 1), (B, 1)], id="unweighted"),
        pytest.param(f"{A}::2 {B}::0.5", [(A, 2), (B, 0.5)], id="weighted"),
        pytest.param(f"{A} :: 2 {B}:: 3 {C} ::1", [(A, 2), (B, 3), (C, 1)], id="spaces-around-the-colons"),
        pytest.param(f"<{A}>::2 <{B}>", [(A, 2), (B, 1)], id="links-in-angle-brackets"),
        pytest.param("2837465::2 random", [("2837465", 2), ("random", 1)], id="codes"),
        pytest.param(f"{A}::0 {B}", [(A, 0), (B, 1)], id="zero-leaves-one-out"),
    ],
)
def test_each_reference_has_its_weight(text: str, references: list[tuple[str, float]]):
    assert read_references(text) == tuple(Reference(word, weight) for word, weight in references)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param(
            f"{A}::x", f"gives `{A}::x` a weight I can't read: write a number from 0 to 100", id="word"
        ),
        pytest.param(f"{A}::", "a weight I can't read", id="empty"),
        pytest.param(f"{A}::101", "from 0 to 100", id="too-large"),
        pytest.param(f"{A}::-1", "from 0 to 100", id="negative"),
        pytest.param(f"{A}::0 {B}::0", "weighs every image 0: give one a weight more than 0", id="all-zero"),
        pytest.param(" ".join([A] * 6), "names 6 images: give at most 5", id="too-many"),
    ],
)
def test_a_weight_that_can_t_be_used_is_refused_saying_what_to_write(text: str, said: str):
    with pytest.raises(PromptError, match=said.replace("(", r"\(")) as caught:
        parse_prompt(f"a fox --sref {text}")
    assert caught.value.flag == "--sref"


def test_a_weighted_reference_is_written_back_as_it_was_given():
    assert [str(ref) for ref in read_references(f"{A}::2 {B} 99::0.5")] == [f"{A}::2", B, "99::0.5"]


def test_the_pasted_weights_of_three_links_read_as_three_references():
    """A real paste (tests/jobs/midjourney_prompts.toml) that spaces its `::`."""
    parsed = parse_prompt(f"a bear --sref {A} :: 2 {B} :: 3 {C} :: 2 --ar 67:71")
    assert [ref.weight for ref in parsed.style_refs] == [2, 3, 2]
    assert parsed.aspect == (67, 71)


def _stored(count: int) -> tuple[UploadRef, ...]:
    return tuple(UploadRef(upload_id="f" * 32, index=n) for n in range(1, count + 1))


def test_the_spec_weighs_its_style_images_in_the_order_the_bot_stores_them():
    """An attached style image (1), `--sref`'s links, then `--cref`'s, each with its `::` weight."""
    parsed = parse_prompt(f"a fox --sref {A}::3 {B} --cref {C}::2")
    links = style_links(parsed, PLAIN, attached=1)
    assert links == (A, B, C)
    (spec,) = imagine_specs(parsed, PLAIN, seed=1, style_images=_stored(1 + len(links)))
    assert spec.style_image_weights == (1, 3, 1, 2)
    assert reroll_spec(spec).style_image_weights == (1, 3, 1, 2)  # a reroll weighs them alike


def test_equal_weights_are_the_plain_mean():
    parsed = parse_prompt(f"a fox --sref {A}::2 {B}::2")
    (spec,) = imagine_specs(parsed, PLAIN, seed=1, style_images=_stored(2))
    assert spec.style_image_weights == ()


def test_a_character_reference_s_weight_is_left_out_where_the_model_has_no_adapter():
    parsed = parse_prompt(f"a fox --cref {C}::2 --model tiny")  # tiny has no image adapter
    assert style_links(parsed, PLAIN) == ()
    (spec,) = imagine_specs(parsed, PLAIN, seed=1)
    assert spec.style_image_weights == ()
    assert spec.warnings[-1].startswith("`--cref` has no effect here: `tiny` has no image adapter")


def test_the_worker_refuses_weights_that_do_not_match_its_style_images():
    """Redis is not trusted: a spec's weights are checked again when the worker reads it."""
    (spec,) = imagine_specs(parse_prompt("a fox"), PLAIN, seed=1, style_images=_stored(2))
    data = spec.model_dump(mode="json")
    with pytest.raises(ValidationError, match="3 style weights for 2 style images"):
        ImagineSpec.model_validate({**data, "style_image_weights": [1, 2, 3]})
    with pytest.raises(ValidationError, match="all 0"):
        ImagineSpec.model_validate({**data, "style_image_weights": [0, 0]})
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        ImagineSpec.model_validate({**data, "style_image_weights": [1, 1000]})
    assert ImagineSpec.model_validate({**data, "style_image_weights": [2, 1]}).style_image_weights == (2, 1)
