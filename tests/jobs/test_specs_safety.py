"""A job spec carries what the worker does with flagged images; old specs mean no check."""

import pytest
from pydantic import ValidationError

from jobs import limits
from jobs.profile import ModelProfile
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from jobs.specs import JOB_SPEC, Safety

PROFILE = ModelProfile(
    name="tiny", family="sd15", native_width=64, native_height=64, size_multiple=8, steps=4, guidance=7.5,
    sampler="euler", samplers=limits.SAMPLERS, vary_subtle=0.3, vary_strong=0.6, upscale_denoise=0.3,
    upscale_creative=0.5,
    max_pixels=16384,
)  # fmt: skip


def test_no_check_unless_asked():
    spec = imagine_spec(parse_prompt("a fox"), PROFILE)
    assert spec.safety is Safety.OFF
    stored = spec.model_dump(mode="json")
    del stored["safety"]  # a spec recorded before the field existed
    assert JOB_SPEC.validate_python(stored).safety is Safety.OFF


@pytest.mark.parametrize("safety", list(Safety))
def test_the_choice_survives_the_queue(safety):
    spec = imagine_spec(parse_prompt("a fox"), PROFILE).model_copy(update={"safety": safety})
    again = JOB_SPEC.validate_json(JOB_SPEC.dump_json(spec))
    assert again == spec and again.safety is safety
    assert spec.model_dump(mode="json")["safety"] == safety.value


def test_an_unknown_choice_is_refused():
    stored = imagine_spec(parse_prompt("a fox"), PROFILE).model_dump(mode="json") | {"safety": "blur"}
    with pytest.raises(ValidationError, match="'off', 'block' or 'spoiler'"):
        JOB_SPEC.validate_python(stored)
