"""Queued jobs that share a model, size, steps, sampler and guidance render in one pipeline call,
and each still ends, retries and fails on its own; a worker killed mid-batch loses none of them."""

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from pydantic import ValidationError
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs import keys
from jobs.events import Done, Started
from jobs.prompt import parse_prompt
from jobs.resolve import generation_for, imagine_spec, reroll_spec
from jobs.specs import ImagineSpec
from models.catalog import load_catalog
from tests.helpers import image, job_events, kinds, spawn_worker, wait_for
from worker.acceleration import warm_up
from worker.boot import prepare
from worker.engine import Engine
from worker.settings import WorkerSettings

PROFILE = load_catalog().get("tiny").profile()


def _spec(prompt: str) -> ImagineSpec:
    return imagine_spec(parse_prompt(prompt), PROFILE)


@contextmanager
def _unet_batches(engine: Engine, during: Callable[[int], None] | None = None) -> Iterator[list[int]]:
    """The batch size of every UNet call while the block runs; `during(batch)` is called at each."""
    sizes: list[int] = []

    def record(_: object, args: tuple) -> None:
        sizes.append(args[0].shape[0])
        if during is not None:
            during(args[0].shape[0])

    handle = engine.model.text2img.unet.register_forward_pre_hook(record)
    try:
        yield sizes
    finally:
        handle.remove()


def _run(redis: Redis, broker: BrokerSettings, settings: WorkerSettings, engines: dict[str, Engine]) -> None:
    prepare(redis, broker, settings, engines).work(burst=True)


def _pixels(redis: Redis, done: Done) -> np.ndarray:
    store = ArtifactStore(redis, 60)
    return np.stack([np.asarray(image(store.get(ref.key)).convert("RGB"), np.int16) for ref in done.images])


def _alone(engine: Engine, spec: ImagineSpec) -> np.ndarray:
    images = engine.imagine(spec.generation, lambda *_: None).images
    return np.stack([np.asarray(picture.convert("RGB"), np.int16) for picture in images])


def test_jobs_at_the_head_of_the_queue_share_one_call_and_keep_their_own_pictures(
    redis, broker_settings, submitter, worker_settings, engines
):
    shared = [
        _spec("a red circle --steps 2 --seed 3"),
        _spec("a blue square --steps 2 --seed 40 --no green"),
        _spec("a yellow star --steps 2 --seed 9 --chaos 50"),
    ]
    other_steps = _spec("a grey cloud --steps 3")
    after_it = _spec("an orange cube --steps 2")
    for spec in [*shared, other_steps, after_it]:
        submitter.submit(spec)
    settings = worker_settings.model_copy(update={"batch_jobs": 4})
    worker = prepare(redis, broker_settings, settings, engines)
    vae = engines["tiny"].model.text2img.vae
    sliced: list[bool] = []
    with _unet_batches(engines["tiny"], during=lambda _: sliced.append(vae.use_slicing)) as batches:
        worker.work(burst=True)

    # CFG doubles each call's batch: three jobs' 12 latents, then each of the others' 4.
    assert batches == [24, 24, 8, 8, 8, 8, 8]
    # A shared call decodes one image at a time, so its VAE needs no more memory than one job's.
    assert sliced == [True, True, False, False, False, False, False] and not vae.use_slicing
    for spec in [*shared, other_steps, after_it]:
        history = kinds(job_events(redis, spec.job_id))
        assert history[:2] == ["queued", "started"] and history[-1] == "done", history
        assert set(history[2:-1]) <= {"progress"}
        assert history.count("started") == 1
    starts = [job_events(redis, spec.job_id)[1] for spec in [*shared, other_steps, after_it]]
    assert [started.at for started in starts] == sorted(started.at for started in starts)  # queue order
    assert all(started.attempt == 1 for started in starts if isinstance(started, Started))
    for spec in shared:
        done = job_events(redis, spec.job_id)[-1]
        assert done.seeds == tuple(spec.generation.seeds)
        # The same seeds give the same pictures in a shared call as alone (fp32 rounding aside).
        assert np.abs(_pixels(redis, done) - _alone(engines["tiny"], spec)).max() <= 2
    histogram = worker.metrics.registry
    assert histogram.get_sample_value("imagine_worker_jobs_per_call_count") == 3
    assert histogram.get_sample_value("imagine_worker_jobs_per_call_sum") == 5


def test_a_reroll_shares_a_call_with_an_imagine_of_the_same_settings(
    redis, broker_settings, submitter, worker_settings, engines
):
    source = _spec("a green triangle --steps 2")
    submitter.submit(source)
    _run(redis, broker_settings, worker_settings, engines)
    reroll, imagine = reroll_spec(source), _spec("a purple moon --steps 2")
    submitter.submit(reroll)
    submitter.submit(imagine)
    with _unet_batches(engines["tiny"]) as batches:
        _run(redis, broker_settings, worker_settings.model_copy(update={"batch_jobs": 2}), engines)
    assert batches == [16, 16]
    assert [kinds(job_events(redis, s.job_id))[-1] for s in (reroll, imagine)] == ["done", "done"]


def test_claimed_jobs_are_started_in_rq_while_the_first_one_renders(
    redis, broker_settings, submitter, worker_settings, engines
):
    specs = [_spec(f"job {n} --steps 2") for n in range(3)]
    for spec in specs:
        submitter.submit(spec)
    queue = Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer)
    seen: list[tuple[set[str], list[str], list[bytes]]] = []

    def look(batch: int) -> None:
        started = {entry.split(":")[0] for entry in StartedJobRegistry(queue=queue).get_job_ids()}
        seen.append((started, queue.get_job_ids(), redis.lrange(queue.intermediate_queue_key, 0, -1)))

    with _unet_batches(engines["tiny"], during=look):
        _run(redis, broker_settings, worker_settings.model_copy(update={"batch_jobs": 3}), engines)
    started, waiting, intermediate = seen[0]
    assert started == {spec.job_id for spec in specs}
    assert waiting == [] and intermediate == []
    assert all(
        Job.fetch(s.job_id, connection=redis, serializer=JSONSerializer).get_status() == JobStatus.FINISHED
        for s in specs
    )


def test_a_failed_shared_call_lets_each_job_render_alone(
    redis, broker_settings, submitter, worker_settings, engines, monkeypatch
):
    together = Engine.imagine_together

    def out_of_memory(self: Engine, jobs: list, style: None = None) -> list:
        if len(jobs) > 1:
            raise RuntimeError("CUDA out of memory (for the test)")
        return together(self, jobs, style)

    monkeypatch.setattr(Engine, "imagine_together", out_of_memory)
    specs = [_spec(f"fallback {n} --steps 2") for n in range(3)]
    for spec in specs:
        submitter.submit(spec)
    with _unet_batches(engines["tiny"]) as batches:
        _run(redis, broker_settings, worker_settings.model_copy(update={"batch_jobs": 3}), engines)
    assert batches == [8] * 6
    for spec in specs:
        history = job_events(redis, spec.job_id)
        assert kinds(history)[-1] == "done"
        assert [event.attempt for event in history if isinstance(event, Started)] == [1]


def test_when_the_first_job_was_done_already_the_next_one_leads_the_shared_call(
    redis, broker_settings, submitter, worker_settings, engines
):
    announced, *rest = [_spec(f"redelivered {n} --steps 2") for n in range(3)]
    for spec in (announced, *rest):
        submitter.submit(spec)
    redis.set(keys.done_key(announced.job_id), 1)  # its result was announced before a retry
    with _unet_batches(engines["tiny"]) as batches:
        _run(redis, broker_settings, worker_settings.model_copy(update={"batch_jobs": 3}), engines)
    assert batches == [16, 16]  # the other two, together; the announced one is not drawn again
    assert kinds(job_events(redis, announced.job_id)) == ["queued"]
    assert [kinds(job_events(redis, s.job_id))[-1] for s in rest] == ["done", "done"]


def test_imagine_together_refuses_generations_that_cannot_share_a_call(engines):
    first = generation_for(parse_prompt("a --steps 2"), PROFILE)
    second = generation_for(parse_prompt("b --steps 3"), PROFILE)
    with pytest.raises(ValueError, match="shared_call_key"):
        engines["tiny"].imagine_together([(first, lambda *_: None), (second, lambda *_: None)])


def test_the_warm_up_renders_every_number_of_jobs_a_call_may_share(engines):
    with _unet_batches(engines["tiny"]) as batches:
        warm_up(engines["tiny"], [(64, 64), (72, 48)], jobs=3)
    assert sorted(set(batches)) == [8, 16, 24]
    assert len(batches) == 2 * 3 * 2  # sizes × job counts × warm-up steps


def test_batch_jobs_is_read_from_the_environment_and_bounded(monkeypatch):
    monkeypatch.setenv("IMAGINE_BATCH_JOBS", "4")
    assert WorkerSettings().batch_jobs == 4
    for wrong in (0, 9):
        with pytest.raises(ValidationError, match="batch_jobs"):
            WorkerSettings(batch_jobs=wrong)


@pytest.mark.slow
def test_every_job_of_a_batch_whose_worker_was_killed_finishes_exactly_once(
    make_redis, model_cache, tmp_path
):
    server = make_redis()
    redis = Redis.from_url(server.url)
    settings = BrokerSettings(redis_url=server.url, job_retries=2)
    submitter = JobSubmitter(redis, settings, EventLog.for_settings(redis, settings))
    specs = [_spec(f"a slow shape {n} --steps 80") for n in range(3)]
    for spec in specs:  # queued before any worker runs, so the first takes all three
        submitter.submit(spec)

    first = spawn_worker(server.url, model_cache, tmp_path / "first.log", batch_jobs="3")
    try:
        for spec in specs:
            wait_for(redis, spec.job_id, "progress", timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()

    second = spawn_worker(server.url, model_cache, tmp_path / "second.log", batch_jobs="1")
    try:
        for spec in specs:
            wait_for(redis, spec.job_id, "done", timeout=240)
    finally:
        second.terminate()
        second.wait(timeout=60)

    for spec in specs:
        history = job_events(redis, spec.job_id)
        assert kinds(history).count("done") == 1 and "failed" not in kinds(history)
        assert [event.attempt for event in history if isinstance(event, Started)] == [1, 2]
        job = Job.fetch(spec.job_id, connection=redis, serializer=JSONSerializer)
        assert job.get_status() == JobStatus.FINISHED
