"""Nothing is lost: a worker killed mid-job, and Redis restarted with jobs waiting."""

import signal

from redis import Redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from broker.events import EventLog
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from models.catalog import load_catalog
from tests.helpers import job_events, kinds, spawn_worker, wait_for
from worker.boot import prepare


def test_job_of_a_killed_worker_finishes_exactly_once(make_redis, model_cache, engines, tmp_path):
    server = make_redis()
    redis = Redis.from_url(server.url)
    settings = BrokerSettings(redis_url=server.url, job_retries=2)
    events = EventLog.for_settings(redis, settings)
    # Enough steps that the job is still running when the first progress event arrives.
    spec = imagine_spec(parse_prompt("a slow red circle --steps 150"), load_catalog().get("tiny").profile())

    first = spawn_worker(server.url, model_cache, tmp_path / "first.log")
    try:
        JobSubmitter(redis, settings, events).submit(spec)
        wait_for(redis, spec.job_id, "progress", timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()

    second = spawn_worker(server.url, model_cache, tmp_path / "second.log")
    try:
        wait_for(redis, spec.job_id, "done", timeout=180)
    finally:
        second.terminate()
        second.wait(timeout=60)

    history = kinds(job_events(redis, spec.job_id))
    assert history.count("done") == 1
    assert history.count("started") == 2
    assert "failed" not in history
    started = [event for event in job_events(redis, spec.job_id) if event.kind == "started"]
    assert [event.attempt for event in started] == [1, 2]
    assert started[0].worker != started[1].worker
    job = Job.fetch(spec.job_id, connection=redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED


def test_waiting_jobs_survive_a_redis_restart(make_redis, worker_settings, engines):
    server = make_redis()
    redis = Redis.from_url(server.url)
    settings = BrokerSettings(redis_url=server.url)
    submitter = JobSubmitter(redis, settings, EventLog.for_settings(redis, settings))
    profile = load_catalog().get("tiny").profile()
    specs = [imagine_spec(parse_prompt(f"job {n} --steps 2"), profile) for n in range(3)]
    for spec in specs:
        submitter.submit(spec)

    server.kill()  # SIGKILL: only what the append-only file holds comes back
    server.start()

    redis = Redis.from_url(server.url)
    prepare(redis, settings, worker_settings, engines).work(burst=True)
    for spec in specs:
        assert kinds(job_events(redis, spec.job_id))[-1] == "done"
