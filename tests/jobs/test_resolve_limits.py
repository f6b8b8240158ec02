"""A server's limits are inputs of spec resolution: new grids are lowered to them with a note,
larger follow-ups refused; a retry is the same job under a new id."""

import pytest

from jobs.errors import MemberError
from jobs.prompt import PromptError, parse_prompt
from jobs.resolve import ResolveError, imagine_spec, retry_spec, upscale_spec, within_limits
from models.catalog import load_catalog

PROFILE = load_catalog().get("tiny").profile()


def test_a_new_grid_is_lowered_to_the_servers_steps_and_largest_side_with_notes():
    spec = imagine_spec(parse_prompt("a fox --ar 2:1 --steps 30"), PROFILE)
    assert (spec.generation.width, spec.generation.height) == (96, 48)
    limited = within_limits(spec, max_side=64, max_steps=20, size_multiple=8)
    assert (limited.generation.width, limited.generation.height, limited.generation.steps) == (64, 32, 20)
    assert limited.warnings == (
        "30 steps lowered to 20, this server's limit",
        "made at 64×32 instead of 96×48: this server's largest side is 64 px",
    )
    assert within_limits(spec, max_side=None, max_steps=None, size_multiple=8) == spec


def test_a_follow_up_larger_than_the_servers_largest_side_is_refused_in_words_for_the_member():
    upscale = upscale_spec(imagine_spec(parse_prompt("a fox"), PROFILE), 2, PROFILE)
    with pytest.raises(ResolveError) as refused:
        within_limits(upscale, max_side=100, max_steps=None, size_multiple=8)
    assert isinstance(refused.value, MemberError)
    assert refused.value.reply == "That would make 128×128 images: this server's largest side is 100 px."


def test_a_retry_is_the_same_job_under_a_new_id_for_whoever_clicked():
    source = imagine_spec(parse_prompt("a fox --seed 7"), PROFILE, requested_by="1")
    again = retry_spec(source, requested_by="2")
    assert again.job_id != source.job_id and again.requested_by == "2"
    assert again.model_dump(exclude={"job_id", "requested_by"}) == source.model_dump(
        exclude={"job_id", "requested_by"}
    )


def test_a_sampler_the_models_family_cannot_run_is_refused_naming_the_ones_it_can():
    with pytest.raises(PromptError) as refused:
        imagine_spec(parse_prompt("a fox --sampler flow_euler"), PROFILE)
    assert refused.value.reply.startswith(
        "That prompt needs a change: `--sampler flow_euler` isn't one `tiny` can run: use `euler`, `euler_a`"
    )
    assert imagine_spec(parse_prompt("a fox --sampler ddim"), PROFILE).generation.sampler == "ddim"
