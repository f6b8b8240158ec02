"""Midjourney's parameters that do nothing here: accepted as Midjourney reads them, kept as written,
and noted on the result in one line; a value out of Midjourney's own range is still refused, with
the range. `--q` takes Midjourney's whole range; `--draft` without a draft model is a note."""

import pytest

from jobs import limits
from jobs.prompt import ParsedPrompt, PromptError, parse_prompt, unused_note
from jobs.resolve import imagine_specs, inpaint_spec
from jobs.specs import UploadRef
from models.catalog import load_catalog

CATALOG = load_catalog()


def _notes(prompt: str) -> tuple[str, ...]:
    (spec, *_) = imagine_specs(parse_prompt(prompt), CATALOG, seed=1)
    return spec.warnings


@pytest.mark.parametrize(
    ("prompt", "kept"),
    [
        ("a cat --v 6.1", "--v 6.1"),
        ("a cat --version 5.2", "--version 5.2"),
        ("a cat --niji", "--niji"),
        ("a cat --niji 6", "--niji 6"),
        ("a cat --exp 25", "--exp 25"),
        ("a cat --p", "--p"),
        ("a cat --p abc123 def456", "--p abc123 def456"),
        ("a cat --sv 4", "--sv 4"),
        ("a cat --cw 0", "--cw 0"),
        ("a cat --stealth", "--stealth"),
        ("a cat --public", "--public"),
        ("a cat --video", "--video"),
        ("a cat --motion high", "--motion high"),
        ("a cat --loop", "--loop"),
        ("a cat --end https://example.com/end.png", "--end https://example.com/end.png"),
        ("a cat \N{EM DASH}v 6", "--v 6"),
    ],
)
def test_a_midjourney_parameter_that_does_nothing_here_draws_with_a_note(prompt: str, kept: str):
    parsed = parse_prompt(prompt)
    assert parsed.unmapped == (kept,)
    [note] = _notes(prompt)
    assert f"`{kept}` has no effect here: " in note


@pytest.mark.parametrize(
    ("prompt", "said"),
    [
        ("a cat --s 5000", "from 0 to 1000"),
        ("a cat --w 3001", "from 0 to 3000"),
        ("a cat --v 9", "from 1 to 8"),
        ("a cat --niji 3", "from 4 to 7"),
        ("a cat --exp 101", "from 0 to 100"),
        ("a cat --cw 101", "from 0 to 100"),
        ("a cat --motion wild", "low or high"),
        ("a cat --s", "needs a value"),
        ("a cat --s 250 --stylize 100", "given twice"),
        ("a cat --fast --fast", "given twice"),
        ("a cat --fast --relax", "both set the same thing"),
        ("a cat --hd --sd", "both set the same thing"),
    ],
)
def test_a_value_out_of_midjourney_s_own_range_is_refused_with_the_range(prompt: str, said: str):
    with pytest.raises(PromptError, match=said):
        parse_prompt(prompt)


def test_several_notes_fold_into_one_line_grouped_by_reason():
    [note] = _notes("a cat --v 7 --niji 6 --exp 10 --sv 4 --stealth --video")
    assert note == (
        "No effect here: `--v 7`, `--niji 6` (this server draws with `shapes`);"
        " `--exp 10`, `--sv 4` (it tunes Midjourney's own model);"
        " `--stealth` (results are posted where you asked);"
        " `--video` (this server makes still images)"
    )


def test_a_note_too_long_for_its_reasons_names_the_parameters_within_the_limit():
    every = (
        "--v 7 --niji 6 --exp 10 --sv 4 --cw 50 --test --testp --stealth --public --video"
        " --motion low --loop --style 4a --p abc --end https://example.com/x.png"
    )
    note = unused_note(parse_prompt(f"a cat {every}"), "shapes")
    assert (
        note is not None
        and len(note) <= limits.MAX_WARNING_CHARS
        and note.startswith("No effect here: `--v 7`")
    )


def test_a_prompt_without_midjourney_parameters_gets_no_note():
    assert unused_note(ParsedPrompt.model_validate({"parts": [{"text": "a cat"}]}), "shapes") is None


@pytest.mark.parametrize(("quality", "steps"), [(0.25, 4), (0.5, 8), (1, 15), (2, 30), (4, 60)])
def test_quality_takes_midjourney_s_range_onto_steps(quality: float, steps: int):
    (spec,) = imagine_specs(parse_prompt(f"a cat --q {quality}"), CATALOG, seed=1)
    assert spec.generation.steps == steps  # shapes samples 15 steps


def test_quality_never_asks_more_than_twice_the_most_steps():
    (spec,) = imagine_specs(parse_prompt("a cat --steps 150 --q 4"), CATALOG, seed=1)
    assert spec.generation.steps == 2 * limits.STEPS_MAX


def test_draft_on_a_model_without_a_draft_model_is_a_note():
    (spec,) = imagine_specs(parse_prompt("a cat --draft --steps 9"), CATALOG, seed=1)
    assert spec.generation.steps == 9  # the prompt's own, as without --draft
    assert spec.warnings == ("`--draft` has no effect here: the catalog names no draft model for `shapes`",)


def test_an_edit_notes_what_does_nothing_here_as_a_new_grid_does():
    image = UploadRef(upload_id="0" * 32, index=1)
    spec = inpaint_spec(parse_prompt("a hat --v 7"), CATALOG, image, image.model_copy(update={"index": 2}))
    assert spec.warnings == ("`--v 7` has no effect here: this server draws with `shapes`",)


def test_image_and_style_parameters_that_do_nothing_fold_into_the_same_line():
    [note] = _notes("a cat --v 7 --iw 2 --sref 2837465 --hd --raw")
    assert note == (
        "No effect here: `--v 7` (this server draws with `shapes`); `--raw` (`shapes` has no house style);"
        " `--hd` (the catalog names no HD size for `shapes`); `--iw` (the prompt has no image);"
        " `--sref 2837465` (Midjourney's style codes and `random` are its own: give an image link instead)"
    )
