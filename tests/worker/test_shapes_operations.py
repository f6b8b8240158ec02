"""Every operation on the shapes model, through the queue and a real worker, keeps what the prompt
asked for in the pictures: imagine, upscale, vary (subtle and strong) and reroll."""

import pytest
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs.events import Done
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec, reroll_spec, upscale_spec, vary_spec
from jobs.specs import JobSpec, Strength
from models.catalog import load_catalog
from tests.helpers import grid_readings, image, job_events, matching
from training.shapes.measure import read
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.settings import WorkerSettings

ASKED = {"colour": "red", "shape": "circle", "background": "blue"}


@pytest.fixture(scope="module")
def settings(worker_settings: WorkerSettings) -> WorkerSettings:
    return worker_settings.model_copy(update={"models": ["shapes"]})


@pytest.fixture(scope="module")
def engines(settings: WorkerSettings) -> dict[str, Engine]:
    return load_engines(settings)


@pytest.fixture
def finish(redis: Redis, submitter: JobSubmitter, broker_settings: BrokerSettings, settings, engines):
    def run(spec: JobSpec) -> Done:
        submitter.submit(spec)
        prepare(redis, broker_settings, settings, engines).work(burst=True)
        done = job_events(redis, spec.job_id)[-1]
        assert isinstance(done, Done), done
        return done

    return run


def test_each_operation_keeps_the_prompt_in_the_picture(redis: Redis, finish) -> None:
    profile = load_catalog().get("shapes").profile()
    artifacts = ArtifactStore(redis, 60)
    source = imagine_spec(parse_prompt("a red circle on a blue background --seed 3"), profile)
    readings = grid_readings(artifacts.get(finish(source).grid.key))
    assert matching(readings, **ASKED) >= 3
    chosen = next(index for index, seen in enumerate(readings, 1) if matching([seen], **ASKED))

    [upscaled] = finish(upscale_spec(source, chosen, profile)).images
    assert (upscaled.width, upscaled.height) == (128, 128)
    assert matching([read(image(artifacts.get(upscaled.key)))], **ASKED) == 1

    for strength in Strength:
        varied = finish(vary_spec(source, chosen, strength, profile)).grid
        assert matching(grid_readings(artifacts.get(varied.key)), **ASKED) >= 3, strength

    rerolled = finish(reroll_spec(source))
    assert rerolled.seeds != tuple(source.generation.seeds)
    assert matching(grid_readings(artifacts.get(rerolled.grid.key)), **ASKED) >= 2  # new, random seeds
