"""Bad jobs fail at once with a clear reason, and the worker keeps serving."""

import pytest
from rq import Callback, Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from jobs import keys
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from models.catalog import load_catalog
from tests.helpers import job_events, kinds


def _queue(redis) -> Queue:
    return Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer)


def _valid_job(submitter):
    spec = imagine_spec(parse_prompt("a red circle --steps 2"), load_catalog().get("tiny").profile())
    submitter.submit(spec)
    return spec.job_id


def _assert_failed_then_served(redis, submitter, run_worker, job: Job, reason: str) -> None:
    follower = _valid_job(submitter)
    run_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert job.retries_left == 0, "a hopeless job must not be retried"
    assert job.id in FailedJobRegistry(queue=_queue(redis))
    failed = job_events(redis, job.id)
    assert kinds(failed) == ["failed"]
    assert reason in failed[0].reason
    assert "Traceback" not in failed[0].reason
    assert kinds(job_events(redis, follower))[-1] == "done"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"spec": {"op": "imagine", "job_id": "x"}}, "not valid"),
        ({"spec": "a red circle"}, "not valid"),
        ({"wrong": 1}, "not valid"),
    ],
    ids=["bad-spec", "spec-not-object", "wrong-argument"],
)
def test_malformed_payload_fails_with_a_reason(redis, submitter, run_worker, payload, reason):
    job = _queue(redis).enqueue("worker.tasks.imagine", kwargs=payload, retry=Retry(max=2), job_id="a" * 32)
    _assert_failed_then_served(redis, submitter, run_worker, job, reason)


def test_function_off_the_allow_list_is_refused(redis, submitter, run_worker, tmp_path):
    marker = tmp_path / "ran"
    job = _queue(redis).enqueue("pathlib.Path.touch", args=[str(marker)], retry=Retry(max=2))
    _assert_failed_then_served(redis, submitter, run_worker, job, "is not a job this worker runs")
    assert not marker.exists()


def test_callback_off_the_allow_list_is_refused(redis, submitter, run_worker):
    spec = imagine_spec(parse_prompt("a red circle --steps 2"), load_catalog().get("tiny").profile())
    job = _queue(redis).enqueue(
        "worker.tasks.imagine",
        kwargs={"spec": spec.model_dump(mode="json")},
        on_success=Callback("os.getcwd"),
        retry=Retry(max=2),
        job_id=spec.job_id,
    )
    run_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert "not allowed" in job_events(redis, job.id)[-1].reason


def test_undecodable_job_data_fails_and_the_worker_goes_on(redis, submitter, run_worker):
    job = _queue(redis).enqueue("worker.tasks.imagine", kwargs={"spec": {}}, retry=Retry(max=2))
    redis.hset(job.key, "data", b"\x00not json")
    follower = _valid_job(submitter)
    run_worker()
    assert Job.fetch(job.id, connection=redis, serializer=JSONSerializer).get_status() == JobStatus.FAILED
    assert kinds(job_events(redis, follower))[-1] == "done"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"loras": [{"name": "sneaky", "weight": 1}]}, "this worker serves no LoRA `sneaky`"),
        ({"loras": [{"name": "ink", "weight": 99}]}, "not valid"),
        ({"prompt": [{"text": "a (red:40) circle", "weight": 1}]}, "is out of range"),
        ({"negative": "(blur:40)"}, "is out of range"),
    ],
    ids=["unknown-lora", "lora-weight", "emphasis", "negative-emphasis"],
)
def test_a_job_the_bot_would_have_refused_fails_naming_why(redis, submitter, run_worker, change, reason):
    # Redis is a trust boundary: LoRAs and emphasis are checked again by the worker.
    spec = imagine_spec(parse_prompt("a red circle --steps 2"), load_catalog().get("tiny").profile())
    payload = spec.model_dump(mode="json")
    payload["generation"] |= change
    job = _queue(redis).enqueue(
        "worker.tasks.imagine", kwargs={"spec": payload}, retry=Retry(max=2), job_id=spec.job_id
    )
    _assert_failed_then_served(redis, submitter, run_worker, job, reason)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"op": "zoom", "factor": 40}, "factor: Input should be less than or equal to 2"),
        ({"op": "region", "cells": [0, 12]}, "cells must be some of 1-9"),
        ({"op": "pan", "direction": "sideways"}, "direction: Input should be 'left', 'right', 'up' or"),
        ({"op": "pan", "direction": "left", "generation": {"width": 4096}}, "4096×64 images"),
    ],
    ids=["zoom-factor", "region-cells", "pan-direction", "pan-size"],
)
def test_an_edit_the_resolver_would_not_make_fails_naming_why(redis, submitter, run_worker, change, reason):
    spec = imagine_spec(parse_prompt("a red circle --steps 2"), load_catalog().get("tiny").profile())
    payload = spec.model_dump(mode="json") | {"source": {"job_id": spec.job_id, "index": 1}}
    payload |= {**change, "generation": payload["generation"] | change.get("generation", {})}
    job = _queue(redis).enqueue(
        f"worker.tasks.{change['op']}", kwargs={"spec": payload}, retry=Retry(max=2), job_id=spec.job_id
    )
    _assert_failed_then_served(redis, submitter, run_worker, job, reason)
