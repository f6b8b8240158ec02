"""The FLUX family end to end on `tiny-flux` (FLUX.1's architecture with random weights, built from
configs, saved and loaded back through the production loader): every operation through Redis and a
worker, `::` weights, `--chaos`, `--tile`, previews of its packed latents, and jobs sharing a call."""

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs.events import Done, Progress
from jobs.prompt import parse_prompt
from jobs.resolve import generation_for, imagine_spec, reroll_spec, upscale_spec, vary_spec
from jobs.specs import Generation, JobSpec, Strength
from models.catalog import load_catalog
from models.pipelines.flux import Flux
from tests.helpers import image, job_events, kinds
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.settings import WorkerSettings

PROFILE = load_catalog().get("tiny-flux").profile()


@pytest.fixture(scope="module")
def flux_settings(worker_settings: WorkerSettings) -> WorkerSettings:
    return worker_settings.model_copy(update={"models": ["tiny-flux"], "batch_jobs": 2})


@pytest.fixture(scope="module")
def engine(flux_settings: WorkerSettings) -> Engine:
    return load_engines(flux_settings)["tiny-flux"]


@pytest.fixture
def run_flux_worker(
    redis: Redis, broker_settings: BrokerSettings, flux_settings: WorkerSettings, engine: Engine
) -> Callable[[], None]:
    def run() -> None:
        prepare(redis, broker_settings, flux_settings, {"tiny-flux": engine}).work(burst=True)

    return run


def _generation(prompt: str) -> Generation:
    return generation_for(parse_prompt(prompt), PROFILE)


def _pixels(images: list[Image.Image]) -> np.ndarray:
    return np.stack([np.asarray(picture.convert("RGB"), np.int16) for picture in images])


def _finish(redis: Redis, submitter: JobSubmitter, run: Callable[[], None], spec: JobSpec) -> Done:
    submitter.submit(spec)
    run()
    events = job_events(redis, spec.job_id)
    assert kinds(events)[-1] == "done", [getattr(event, "reason", "") for event in events]
    return events[-1]


def test_the_tiny_flux_model_is_loaded_as_flux(engine: Engine):
    assert isinstance(engine.model.pipeline, Flux)
    assert engine.model.text2img.transformer is engine.model.img2img.transformer  # one copy
    assert engine.model.text2img.transformer.config.guidance_embeds  # FLUX.1-dev's distilled guidance
    assert (PROFILE.sampler, PROFILE.samplers, PROFILE.size_multiple) == ("flow_euler", ("flow_euler",), 8)


def test_every_operation_runs_through_redis_and_a_worker(redis, submitter, run_flux_worker):
    source = imagine_spec(parse_prompt("a lighthouse --ar 3:2 --seed 4 --steps 3"), PROFILE)
    done = _finish(redis, submitter, run_flux_worker, source)
    width, height = source.generation.width, source.generation.height
    assert (width, height) == (72, 48) and done.seeds == (4, 5, 6, 7)
    store = ArtifactStore(redis, 60)
    assert image(store.get(done.grid.key)).size == (2 * width, 2 * height)
    previews = [event for event in job_events(redis, source.job_id) if isinstance(event, Progress)]
    assert previews and all(image(event.preview).format == "JPEG" for event in previews)

    upscaled = _finish(redis, submitter, run_flux_worker, upscale_spec(source, 2, PROFILE))
    assert image(store.get(upscaled.images[0].key)).size == (2 * width, 2 * height)
    varied = _finish(redis, submitter, run_flux_worker, vary_spec(source, 3, Strength.STRONG, PROFILE))
    assert image(store.get(varied.grid.key)).size == (2 * width, 2 * height)
    rerolled = _finish(redis, submitter, run_flux_worker, reroll_spec(source))
    assert store.get(rerolled.grid.key) != store.get(done.grid.key)


def test_weights_chaos_and_tile_change_the_pictures_and_a_negative_prompt_is_noted(engine: Engine):
    plain = engine.imagine(_generation("a red lighthouse --seed 9 --steps 2"), lambda *_: None)
    variants = {
        "weights": "a red lighthouse::3 a storm --seed 9 --steps 2",
        "chaos": "a red lighthouse --chaos 80 --seed 9 --steps 2",
        "tile": "a red lighthouse --tile --seed 9 --steps 2",
    }
    for name, prompt in variants.items():
        changed = engine.imagine(_generation(prompt), lambda *_: None)
        assert not np.array_equal(_pixels(changed.images), _pixels(plain.images)), name
    negative = engine.imagine(_generation("a red lighthouse --no fog --seed 9 --steps 2"), lambda *_: None)
    assert np.array_equal(_pixels(negative.images), _pixels(plain.images))
    assert negative.warnings == ("`--no` was left out: `tiny-flux` takes no negative prompt",)


def test_jobs_sharing_a_call_match_each_alone_and_see_their_own_unpacked_latents(engine: Engine):
    jobs = [
        _generation("a red lighthouse --seed 5 --steps 3"),
        _generation("a blue boat::2 a harbour --seed 11 --steps 3 --chaos 30"),
    ]
    shapes: list[list[tuple[int, ...]]] = [[], []]
    renders = engine.imagine_together(
        [
            (generation, lambda step, total, latents, n=n: shapes[n].append(tuple(latents.shape)))
            for n, generation in enumerate(jobs)
        ]
    )
    assert shapes == [[(4, 16, 16, 16)] * 3] * 2  # (images, FLUX's 16 channels, 64 px / 4) each
    for generation, render in zip(jobs, renders, strict=True):
        alone = engine.imagine(generation, lambda *_: None)
        assert np.abs(_pixels(render.images) - _pixels(alone.images)).max() <= 2
