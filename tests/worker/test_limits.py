"""The worker checks every spec against its model's limits before rendering, and says what to change."""

import io

import pytest
from PIL import Image

from broker.artifacts import image_name
from jobs import keys, limits
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec, upscale_spec, vary_spec
from jobs.specs import Strength
from models.catalog import load_catalog
from tests.helpers import job_events, kinds
from worker.checks import check_fits

PROFILE = load_catalog().get("tiny").profile()


def _spec(text: str = "a red circle --steps 2"):
    return imagine_spec(parse_prompt(text), PROFILE)


def _failed_reason(redis, submitter, run_worker, spec, *, announced: int = 0) -> str:
    submitter.submit(spec)
    follower = _spec()
    submitter.submit(follower)
    run_worker()
    events = job_events(redis, spec.job_id)
    assert kinds(events)[-1] == "failed", kinds(events)
    assert kinds(events).count("started") == announced, "nothing is rendered for a job over the limits"
    assert kinds(job_events(redis, follower.job_id))[-1] == "done"
    return events[-1].reason


def _sized(spec, width: int, height: int):
    return spec.model_copy(
        update={"generation": spec.generation.model_copy(update={"width": width, "height": height})}
    )


@pytest.mark.parametrize(
    ("width", "height", "reason"),
    [
        (4096, 4096, "the job asks for 4096×4096 images; the model `tiny` makes at most 16384 pixels"),
        (100000, 64, "makes at most 16384 pixels"),
        (68, 64, "multiples of 8"),
        (512, 16, "at most 4 times as wide as tall"),
    ],
)
def test_an_imagine_job_over_the_limits_fails_at_once(redis, submitter, run_worker, width, height, reason):
    assert reason in _failed_reason(redis, submitter, run_worker, _sized(_spec(), width, height))


def _stored_source(redis, width: int, height: int):
    """A finished job's record and its first image, as the artifact store keeps them."""
    source = _sized(_spec(), width, height)
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, "PNG")
    redis.set(keys.artifact_key(source.job_id, image_name(1)), buffer.getvalue())
    return source


def test_an_upscale_past_the_limits_fails_at_once(redis, submitter, run_worker):
    source = _stored_source(redis, 64, 64)
    spec = _sized(upscale_spec(source, 1, PROFILE), 128, 128)  # 256×256 out
    assert "the job asks for 256×256 images" in _failed_reason(redis, submitter, run_worker, spec)


def test_a_variation_of_a_huge_source_fails_at_once(redis, submitter, run_worker):
    source = _stored_source(redis, 64, 64)
    spec = _sized(vary_spec(source, 1, Strength.SUBTLE, PROFILE), 4096, 4096)
    assert "makes at most 16384 pixels" in _failed_reason(redis, submitter, run_worker, spec)


def test_a_variation_whose_stored_source_is_huge_fails_at_once(redis, submitter, run_worker):
    """The spec says 64×64, but the image stored under its source is far larger."""
    source = _stored_source(redis, 64, 64)
    spec = vary_spec(source, 1, Strength.SUBTLE, PROFILE)
    big = io.BytesIO()
    Image.new("RGB", (1024, 1024)).save(big, "PNG")
    redis.set(keys.artifact_key(source.job_id, image_name(1)), big.getvalue())
    # Found as the source is read, once the job has started; still before any pixel is decoded.
    reason = _failed_reason(redis, submitter, run_worker, spec, announced=1)
    assert "the stored source image is 1024×1024" in reason


def test_a_tiny_denoise_cannot_ask_for_endless_steps(redis, submitter, run_worker):
    source = _stored_source(redis, 64, 64)
    spec = vary_spec(source, 1, Strength.SUBTLE, PROFILE).model_copy(update={"denoise": 1e-9})
    assert "steps" in _failed_reason(redis, submitter, run_worker, spec)


@pytest.mark.parametrize(
    ("sampler", "reason"),
    [
        ("warp_drive", "`warp_drive` isn't a sampler"),
        ("flow_euler", "the sampler `flow_euler`, which the model `tiny` cannot run: it runs euler, euler_a"),
    ],
    ids=["unknown", "of-another-family"],
)
def test_a_sampler_the_model_cannot_run_fails_at_once_with_its_name(
    redis, submitter, run_worker, sampler, reason
):
    spec = _spec()
    spec = spec.model_copy(update={"generation": spec.generation.model_copy(update={"sampler": sampler})})
    assert reason in _failed_reason(redis, submitter, run_worker, spec)


def test_the_longest_prompt_the_parser_accepts_is_drawn(redis, submitter, run_worker):
    flags = " --steps 1"
    text = "a red circle " * 400
    text = text[: limits.MAX_PROMPT_CHARS - len(flags)].strip() + flags
    spec = _spec(text)
    submitter.submit(spec)
    run_worker()
    assert kinds(job_events(redis, spec.job_id))[-1] == "done"


ASPECTS = [(w, h) for w in range(1, 41) for h in range(1, 41) if max(w, h) <= 4 * min(w, h)]


@pytest.mark.parametrize("name", [entry.name for entry in load_catalog().models])
def test_every_size_the_bot_resolves_passes_the_checks(name):
    profile = load_catalog().get(name).profile()
    for aspect in ASPECTS:
        for quality in limits.QUALITY_CHOICES:
            spec = imagine_spec(parse_prompt(f"a fox --ar {aspect[0]}:{aspect[1]} --q {quality:g}"), profile)
            check_fits(spec, profile)
            for strength in Strength:
                check_fits(vary_spec(spec, 1, strength, profile), profile)
            try:
                check_fits(upscale_spec(spec, 1, profile), profile)
            except ValueError as error:  # ResolveError: the bot refuses an upscale past the limits
                assert "can't upscale it further" in str(error)
