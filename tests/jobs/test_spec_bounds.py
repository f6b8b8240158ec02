"""The contract bounds what a spec may carry, and never refuses what the parser accepted."""

import pytest
from pydantic import ValidationError

from jobs import limits
from jobs.profile import ModelProfile
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec, reroll_spec
from jobs.specs import JOB_SPEC

PROFILE = ModelProfile(
    name="tiny", family="sd15", native_width=64, native_height=64, size_multiple=8, steps=4, guidance=7.5,
    sampler="euler", samplers=limits.SAMPLERS, vary_subtle=0.3, vary_strong=0.6, upscale_denoise=0.3,
    upscale_creative=0.5,
    max_pixels=16384,
)  # fmt: skip

LONGEST = limits.MAX_PROMPT_CHARS


def _stored(text: str = "a fox") -> dict:
    return imagine_spec(parse_prompt(text), PROFILE).model_dump(mode="json")


def _refused(stored: dict, field: str) -> str:
    with pytest.raises(ValidationError) as caught:
        JOB_SPEC.validate_python(stored)
    locations = [".".join(map(str, error["loc"])) for error in caught.value.errors()]
    assert any(field in location for location in locations), locations
    return str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "a" * LONGEST,
        "a::" * ((LONGEST - 1) // 3) + "a",
        "a fox --no " + "b" * (LONGEST - len("a fox --no ")),
        " ".join(["a"] * ((LONGEST + 1) // 2)),
        "\N{GRINNING FACE}" * LONGEST,  # 12 bytes each once JSON-escaped
    ],
    ids=["one-long-part", "most-parts", "long-negative", "many-words", "emoji"],
)
def test_a_prompt_the_parser_accepts_is_a_valid_spec(text):
    parsed = parse_prompt(text)
    spec = imagine_spec(parsed, PROFILE)
    again = JOB_SPEC.validate_json(JOB_SPEC.dump_json(spec))
    assert again == spec
    assert JOB_SPEC.validate_json(JOB_SPEC.dump_json(reroll_spec(spec))).source_job_id == spec.job_id


def test_prompt_text_is_bounded():
    stored = _stored()
    stored["generation"]["prompt"] = [{"text": "a" * (LONGEST + 1), "weight": 1}]
    _refused(stored, "generation.prompt")


def test_prompt_text_of_all_parts_is_bounded():
    stored = _stored()
    stored["generation"]["prompt"] = [{"text": "a" * 1000, "weight": 1}] * 5
    _refused(stored, "generation.prompt")


def test_number_of_parts_is_bounded():
    stored = _stored()
    stored["generation"]["prompt"] = [{"text": "a", "weight": 1}] * (LONGEST + 1)
    _refused(stored, "generation.prompt")


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), 1e9])
def test_part_weights_are_bounded(weight):
    stored = _stored()
    stored["generation"]["prompt"] = [{"text": "a", "weight": weight}]
    _refused(stored, "generation.prompt")


def test_negative_prompt_is_bounded():
    stored = _stored()
    stored["generation"]["negative"] = "b" * (LONGEST + 1)
    _refused(stored, "generation.negative")


@pytest.mark.parametrize(
    "warnings",
    [["note"] * (limits.MAX_WARNINGS + 1), ["w" * (limits.MAX_WARNING_CHARS + 1)]],
    ids=["too-many", "too-long"],
)
def test_warnings_are_bounded(warnings):
    stored = _stored()
    stored["warnings"] = warnings
    _refused(stored, "warnings")


def test_requester_is_bounded():
    stored = _stored()
    stored["requested_by"] = "m" * (limits.MAX_REQUESTER_CHARS + 1)
    _refused(stored, "requested_by")


@pytest.mark.parametrize("source", ["x", "A" * 32, "0" * 33, "../" * 11])
def test_source_job_id_is_a_job_id(source):
    stored = reroll_spec(JOB_SPEC.validate_python(_stored())).model_dump(mode="json")
    stored["source_job_id"] = source
    _refused(stored, "source_job_id")


def test_an_unknown_sampler_is_refused_by_name():
    stored = _stored()
    stored["generation"]["sampler"] = "warp_drive"
    message = _refused(stored, "generation.sampler")
    assert "`warp_drive`" in message and "euler_a" in message


@pytest.mark.parametrize("sampler", limits.SAMPLERS)
def test_every_sampler_members_may_name_is_valid(sampler):
    stored = _stored(f"a fox --sampler {sampler}")
    assert JOB_SPEC.validate_python(stored).generation.sampler == sampler
