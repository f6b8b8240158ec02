"""A damaged job record in Redis fails that job alone, with a reason the member reads; the worker
goes on, whether it meets the record when it takes the job or when it recovers abandoned ones."""

import time
import zlib

import pytest
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from jobs import keys
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from models.catalog import load_catalog
from tests.helpers import job_events, kinds

DAMAGES = {
    "meta-not-json": ("meta", b"not json"),
    "meta-not-a-mapping": ("meta", b"[1, 2]"),
    "data-not-json": ("data", b"\x00not json"),
    "data-not-a-call": ("data", zlib.compress(b'{"spec": {}}')),
    "created-at-not-a-date": ("created_at", b"yesterday"),
    "status-unknown": ("status", b"exploded"),
    "retries-not-a-number": ("retries_left", b"many"),
    "timeout-not-a-number": ("timeout", b"forever"),
    "origin-not-text": ("origin", b"\xff\xfe"),
    "dependencies-not-json": ("dependency_ids", b"[oops"),
}


def _queue(redis) -> Queue:
    return Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer)


def _submit(submitter, text: str = "a red circle --steps 2") -> str:
    spec = imagine_spec(parse_prompt(text), load_catalog().get("tiny").profile())
    submitter.submit(spec)
    return spec.job_id


def _assert_failed_alone(redis, job_id: str, follower: str, reason: str) -> None:
    events = job_events(redis, job_id)
    assert kinds(events)[-1] == "failed", kinds(events)
    assert kinds(events).count("failed") == 1
    assert reason in events[-1].reason
    assert "Traceback" not in events[-1].reason
    assert job_id in FailedJobRegistry(queue=_queue(redis)).get_job_ids(cleanup=False)
    assert kinds(job_events(redis, follower))[-1] == "done", "the worker must go on to the next job"


@pytest.mark.parametrize(("field", "value"), DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_field_fails_the_job_alone(redis, submitter, run_worker, field, value):
    damaged = _submit(submitter)
    redis.hset(Job.key_for(damaged), field, value)
    follower = _submit(submitter)
    run_worker()
    _assert_failed_alone(redis, damaged, follower, f"`{field}`")


def test_a_job_without_data_fails_with_a_reason(redis, submitter, run_worker):
    damaged = _submit(submitter)
    redis.hdel(Job.key_for(damaged), "data")
    follower = _submit(submitter)
    run_worker()
    _assert_failed_alone(redis, damaged, follower, "`data`")


def test_a_job_without_created_at_runs_as_rq_allows(redis, submitter, run_worker):
    job_id = _submit(submitter)
    redis.hdel(Job.key_for(job_id), "created_at")
    run_worker()
    assert kinds(job_events(redis, job_id))[-1] == "done"


def test_a_job_key_that_is_not_a_hash_does_not_stop_the_worker(redis, submitter, run_worker):
    damaged = _submit(submitter)
    follower = _submit(submitter)
    redis.delete(Job.key_for(damaged))
    redis.set(Job.key_for(damaged), b"not a hash")
    run_worker()
    # Nothing can be recorded on such a key: it is passed by, as RQ passes by a job that is gone.
    assert kinds(job_events(redis, follower))[-1] == "done"
    assert redis.get(Job.key_for(damaged)) == b"not a hash"


def test_data_that_decompresses_to_something_huge_is_refused_unread(redis, submitter, run_worker):
    damaged = _submit(submitter)
    # 256 MB of prompt, 250 KB compressed: the worker must stop reading long before the end.
    huge = b'["worker.tasks.imagine", null, [], {"spec": {"x": "' + b"a" * 256_000_000 + b'"}}]'
    redis.hset(Job.key_for(damaged), "data", zlib.compress(huge, 9))
    del huge
    follower = _submit(submitter)
    began = time.monotonic()
    run_worker()
    _assert_failed_alone(redis, damaged, follower, "too large")
    assert time.monotonic() - began < 60


@pytest.mark.parametrize("retries_left", [0, 2], ids=["last-try", "with-retries"])
def test_a_damaged_abandoned_job_does_not_stop_recovery(redis, submitter, run_worker, retries_left):
    """The job of a worker that died, found by the next worker's registry clean-up."""
    damaged = _submit(submitter)
    job = Job.fetch(damaged, connection=redis, serializer=JSONSerializer)
    queue = _queue(redis)
    # What a worker does as it takes a job (RQ's prepare_execution and prepare_for_execution),
    # with a heartbeat that has already run out, as it has once that worker died.
    gone = Worker([queue], connection=redis, serializer=JSONSerializer, name="gone")
    execution = gone.prepare_execution(job)
    with redis.pipeline() as pipeline:
        job.prepare_for_execution(gone.name, pipeline)
        pipeline.lrem(queue.key, 1, damaged)
        pipeline.zadd(queue.started_job_registry.key, {f"{damaged}:{execution.id}": 1})
        pipeline.hset(job.key, mapping={"meta": b"not json", "retries_left": retries_left})
        pipeline.execute()
    follower = _submit(submitter)
    run_worker()
    _assert_failed_alone(redis, damaged, follower, "`meta`")
    assert Job.fetch(damaged, connection=redis, serializer=JSONSerializer).get_status() == JobStatus.FAILED
