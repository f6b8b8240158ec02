"""`imagine status` against a real Redis and a real worker run in-process on the tiny model: a job
fails, is shown with its reason, requeued, fails again and is dropped."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

import worker.tasks
from broker import monitor
from broker.settings import BrokerSettings
from cli.main import main
from jobs import keys
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from models.catalog import load_catalog
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.settings import WorkerSettings

PROFILE = load_catalog().get("tiny").profile()


@pytest.fixture(scope="module")
def engines(model_cache: Path) -> dict[str, Engine]:
    return load_engines(WorkerSettings(models=["tiny"], model_cache=model_cache, device="cpu"))


@pytest.fixture
def run_worker(
    redis: Redis, broker_settings: BrokerSettings, model_cache: Path, engines: dict[str, Engine]
) -> Callable[[], None]:
    settings = WorkerSettings(models=["tiny"], model_cache=model_cache, device="cpu", heartbeat_ttl=2)
    return lambda: prepare(redis, broker_settings, settings, engines).work(burst=True)


@pytest.fixture
def imagine(redis_server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Runs `imagine ARGS…` in-process against the test's Redis: (exit status, stdout, stderr)."""
    monkeypatch.setenv("IMAGINE_REDIS_URL", redis_server.url)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def _bad_job(redis: Redis) -> str:
    """A job whose spec no worker accepts: it fails at once, with a reason."""
    queue = Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer)
    job = queue.enqueue(
        "worker.tasks.imagine",
        kwargs={"spec": {"op": "imagine", "job_id": "x", "requested_by": "42"}},
        retry=Retry(max=2),
    )
    return job.id


def _failed(redis: Redis) -> list[str]:
    queue = Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer)
    return FailedJobRegistry(queue=queue).get_job_ids()


def test_a_failed_job_is_shown_requeued_and_dropped(redis, run_worker, imagine):
    job_id = _bad_job(redis)
    run_worker()

    status, out, _ = imagine("status")
    assert status == 0
    header, *lines = out.split("Workers")[0].strip().splitlines()
    assert header.split() == ["Queues", "waiting", "running", "held", "back", "failed"]
    rows = {name: counts for name, *counts in map(str.split, lines)}
    assert list(rows) == sorted(load_catalog().names)  # every model of the catalog
    assert rows["tiny"] == ["0", "0", "0", "1"]
    assert all(row == ["0", "0", "0", "0"] for name, row in rows.items() if name != "tiny")
    assert "Workers (0)" in out
    assert re.search(rf"\n  {job_id}  imagine on tiny requested by 42, failed \d+s ago\n", out)
    assert "    the job's description is not valid (" in out

    status, out, _ = imagine("status", "requeue", job_id[:10])
    assert (status, out) == (0, f"requeued {job_id} (tiny)\n")
    assert _failed(redis) == []
    assert Queue(keys.queue_name("tiny"), connection=redis).get_job_ids() == [job_id]
    assert imagine("status", "--json")[1].count('"waiting": 1') == 1

    run_worker()  # still hopeless: back among the failed, after a second attempt
    assert _failed(redis) == [job_id]
    [failed] = json.loads(imagine("status", "--json")[1])["failed"]
    assert failed["job_id"] == job_id and "not valid" in failed["reason"]

    status, out, _ = imagine("status", "drop", "--all")
    assert (status, out) == (0, f"dropped {job_id} (tiny)\n")
    assert _failed(redis) == []
    with pytest.raises(NoSuchJobError):
        Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    assert imagine("status", "drop", "--all")[1] == "no failed jobs: nothing dropped\n"


def test_json_output_for_scripts(redis, run_worker, imagine):
    job_id = _bad_job(redis)
    run_worker()
    status, out, _ = imagine("status", "--json")
    assert status == 0
    report = json.loads(out)
    assert report["queues"] == [
        {"model": name, "waiting": 0, "running": 0, "held": 0, "failed": int(name == "tiny")}
        for name in sorted(load_catalog().names)  # every model of the catalog
    ]
    assert report["workers"] == []
    [failed] = report["failed"]
    assert failed["job_id"] == job_id
    assert (failed["model"], failed["operation"], failed["requested_by"]) == ("tiny", "imagine", "42")
    assert failed["reason"].startswith("the job's description is not valid")
    assert json.loads(imagine("status", "requeue", "--all", "--json")[1]) == {"requeued": [job_id]}


def test_a_busy_worker_shows_its_job(redis, submitter, run_worker, imagine, monkeypatch: pytest.MonkeyPatch):
    render = worker.tasks._render
    seen: list[dict] = []

    def look_while_running(*args):
        seen.append(json.loads(imagine("status", "--json")[1]))
        seen.append({"text": imagine("status")[1]})
        return render(*args)

    monkeypatch.setattr(worker.tasks, "_render", look_while_running)
    spec = imagine_spec(parse_prompt("a red circle --steps 2"), PROFILE)
    submitter.submit(spec)
    run_worker()

    report, text = seen[0], seen[1]["text"]
    assert {queue["model"]: queue["running"] for queue in report["queues"] if queue["running"]} == {"tiny": 1}
    [busy] = report["workers"]
    assert (busy["state"], busy["job_id"], busy["operation"], busy["model"]) == (
        "busy",
        spec.job_id,
        "imagine",
        "tiny",
    )
    assert busy["models"] == ["tiny"] and busy["host"] and busy["pid"]
    assert 0 <= busy["job_seconds"] < 60 and 0 <= busy["heartbeat_age_seconds"] < 60
    assert re.search(rf"busy: imagine on tiny, job {spec.job_id} for \d+s · last heartbeat \d+s ago", text)


def test_the_reason_falls_back_to_the_failed_event_then_to_the_exception(redis, run_worker):
    job_id = _bad_job(redis)
    run_worker()
    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    job.meta.pop(monitor.FAILURE_REASON)  # failed before workers kept the reason
    job.save_meta()
    [failed] = monitor.failed_jobs(redis)
    assert failed.reason.startswith("the job's description is not valid")  # from the `failed` event

    redis.delete(keys.EVENTS_STREAM)
    [failed] = monitor.failed_jobs(redis)
    assert failed.reason.startswith("worker.errors.InvalidJobError: the job's description is not valid")


def test_unknown_or_ambiguous_ids_are_explained(redis, run_worker, imagine):
    first, second = _bad_job(redis), _bad_job(redis)
    run_worker()
    status, _, err = imagine("status", "drop", "0" * 32)
    assert (status, err) == (2, f"imagine: no failed job {'0' * 32}\n")
    common = next(
        first[:n] for n in range(len(first), -1, -1) if second.startswith(first[:n])
    )  # often "": every id starts with it
    status, _, err = imagine("status", "requeue", common)
    assert status == 2 and "2 failed jobs start with" in err
    assert sorted(_failed(redis)) == sorted([first, second])
