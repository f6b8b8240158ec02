"""Each operation end to end: enqueue → events in order → artifacts → a grid of the right size."""

from collections.abc import Callable

import pytest
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.queues import JobSubmitter
from jobs.events import Done, Progress
from jobs.profile import ModelProfile
from jobs.prompt import parse_prompt
from jobs.resolve import (
    imagine_spec,
    pan_spec,
    region_spec,
    reroll_spec,
    square_spec,
    upscale_spec,
    vary_spec,
    zoom_spec,
)
from jobs.specs import Direction, ImagineSpec, JobSpec, Strength
from models.catalog import load_catalog
from tests.helpers import image, job_events, kinds
from worker.runner import ResidentWorker

RunWorker = Callable[[], ResidentWorker]


@pytest.fixture(scope="module")
def profile() -> ModelProfile:
    return load_catalog().get("tiny").profile()


def _imagine(prompt: str, profile: ModelProfile) -> ImagineSpec:
    return imagine_spec(parse_prompt(prompt), profile, requested_by="tester")


def _finish(redis: Redis, submitter: JobSubmitter, run_worker: RunWorker, spec: JobSpec) -> Done:
    submitter.submit(spec)
    run_worker()
    events = job_events(redis, spec.job_id)
    assert kinds(events)[:2] == ["queued", "started"]
    assert kinds(events)[-1] == "done", [getattr(e, "reason", "") for e in events]
    assert set(kinds(events)[2:-1]) <= {"progress"}
    return events[-1]


def _pixels(redis: Redis, key: str) -> tuple[int, int]:
    return image(ArtifactStore(redis, 60).get(key)).size


def test_imagine_makes_four_images_and_a_grid(redis, submitter, run_worker, profile):
    spec = _imagine("a red circle --seed 7", profile)
    done = _finish(redis, submitter, run_worker, spec)

    width, height = spec.generation.width, spec.generation.height
    assert done.seeds == (7, 8, 9, 10)
    assert [(ref.width, ref.height) for ref in done.images] == [(width, height)] * 4
    assert [_pixels(redis, ref.key) for ref in done.images] == [(width, height)] * 4
    assert done.grid is not None and done.grid.content_type == "image/png"
    assert _pixels(redis, done.grid.key) == (2 * width, 2 * height)
    grid = image(ArtifactStore(redis, 60).get(done.grid.key))
    second = image(ArtifactStore(redis, 60).get(done.images[1].key))
    assert grid.crop((width, 0, 2 * width, height)).tobytes() == second.convert("RGB").tobytes()


def test_progress_events_carry_a_jpeg_preview(redis, submitter, run_worker, profile):
    spec = _imagine("a blue square --steps 8", profile)
    _finish(redis, submitter, run_worker, spec)
    progress = [event for event in job_events(redis, spec.job_id) if isinstance(event, Progress)]
    assert len(progress) >= 2
    assert [p.step for p in progress] == sorted(p.step for p in progress)
    assert all(0 < p.percent < 100 for p in progress)
    assert all(image(p.preview).format == "JPEG" for p in progress)


def test_aspect_ratio_reaches_the_grid(redis, submitter, run_worker, profile):
    spec = _imagine("a wide field --ar 2:1 --steps 2", profile)
    done = _finish(redis, submitter, run_worker, spec)
    width, height = spec.generation.width, spec.generation.height
    assert width == 2 * height
    assert _pixels(redis, done.grid.key) == (2 * width, 2 * height)


def test_upscale_doubles_one_image(redis, submitter, run_worker, profile):
    source = _imagine("a green triangle --steps 3", profile)
    _finish(redis, submitter, run_worker, source)
    spec = upscale_spec(source, 2, profile)
    done = _finish(redis, submitter, run_worker, spec)
    assert done.grid is None
    assert done.seeds == (source.generation.seeds[1],)
    assert _pixels(redis, done.images[0].key) == (2 * source.generation.width, 2 * source.generation.height)


@pytest.mark.parametrize("strength", list(Strength))
def test_vary_makes_a_new_grid_from_one_image(redis, submitter, run_worker, profile, strength):
    source = _imagine("a yellow star --steps 4", profile)
    _finish(redis, submitter, run_worker, source)
    spec = vary_spec(source, 3, strength, profile)
    done = _finish(redis, submitter, run_worker, spec)
    expected = profile.vary_subtle if strength is Strength.SUBTLE else profile.vary_strong
    assert spec.denoise == expected
    assert len(done.images) == 4
    assert _pixels(redis, done.grid.key) == (2 * source.generation.width, 2 * source.generation.height)


def test_vary_of_an_upscaled_image_keeps_its_size(redis, submitter, run_worker, profile):
    source = _imagine("a purple moon --steps 2", profile)
    _finish(redis, submitter, run_worker, source)
    upscaled = upscale_spec(source, 1, profile)
    _finish(redis, submitter, run_worker, upscaled)
    done = _finish(redis, submitter, run_worker, vary_spec(upscaled, 1, Strength.STRONG, profile))
    assert (done.images[0].width, done.images[0].height) == (
        2 * source.generation.width,
        2 * source.generation.height,
    )


@pytest.mark.parametrize(
    ("make", "size"),
    [
        pytest.param(lambda source, profile: zoom_spec(source, 2, 1.5), (64, 64), id="zoom"),
        pytest.param(
            lambda source, profile: pan_spec(source, 2, Direction.LEFT, profile), (96, 64), id="pan"
        ),
        pytest.param(
            lambda source, profile: region_spec(source, 2, frozenset({1, 2})), (64, 64), id="region"
        ),
    ],
)
def test_outpaint_and_region_jobs_make_a_grid_from_one_image(
    redis, submitter, run_worker, profile, make, size
):
    source = _imagine("a teal kite --steps 2", profile)
    _finish(redis, submitter, run_worker, source)
    spec = make(source, profile)
    done = _finish(redis, submitter, run_worker, spec)
    assert [(ref.width, ref.height) for ref in done.images] == [size] * 4
    assert done.seeds == tuple(spec.generation.seeds)
    assert _pixels(redis, done.grid.key) == (2 * size[0], 2 * size[1])


def test_make_square_of_a_wide_image_and_a_creative_upscale(redis, submitter, run_worker, profile):
    source = _imagine("a long train --ar 3:2 --steps 2", profile)
    _finish(redis, submitter, run_worker, source)
    width, height = source.generation.width, source.generation.height
    squared = _finish(redis, submitter, run_worker, square_spec(source, 1, profile))
    assert {(ref.width, ref.height) for ref in squared.images} == {(width, width)}
    creative = upscale_spec(source, 1, profile, creative=True)
    assert creative.denoise == profile.upscale_creative > profile.upscale_denoise
    done = _finish(redis, submitter, run_worker, creative)
    assert (done.images[0].width, done.images[0].height) == (2 * width, 2 * height)


def test_reroll_keeps_the_prompt_with_new_seeds(redis, submitter, run_worker, profile):
    source = _imagine("an orange cube --seed 1 --steps 2", profile)
    _finish(redis, submitter, run_worker, source)
    spec = reroll_spec(source)
    done = _finish(redis, submitter, run_worker, spec)
    assert spec.generation.prompt == source.generation.prompt
    assert spec.source_job_id == source.job_id
    assert done.seeds == tuple(spec.generation.seeds) != tuple(source.generation.seeds)


def test_follow_up_of_an_expired_image_fails_clearly(redis, submitter, run_worker, profile):
    source = _imagine("a grey cloud --steps 2", profile)
    _finish(redis, submitter, run_worker, source)
    redis.delete(*redis.keys(f"imagine:artifact:{source.job_id}:*"))
    spec = upscale_spec(source, 1, profile)
    submitter.submit(spec)
    run_worker()
    failed = job_events(redis, spec.job_id)[-1]
    assert failed.kind == "failed"
    assert "no longer stored" in failed.reason
