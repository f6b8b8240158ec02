"""Nothing is lost: a worker killed mid-job, and Redis restarted with jobs waiting."""

import signal
import time

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
from worker.runner import build_worker


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


def test_a_worker_rides_out_a_redis_restart_in_the_middle_of_a_job(make_redis, model_cache, tmp_path):
    server = make_redis()
    redis = Redis.from_url(server.url)
    settings = BrokerSettings(redis_url=server.url, job_retries=2)
    profile = load_catalog().get("tiny").profile()
    during = imagine_spec(parse_prompt("a slow red circle --steps 150"), profile)
    after = imagine_spec(parse_prompt("a quick blue square --steps 2"), profile)

    # A heartbeat that outlives the outage: the job is found abandoned only after the worker idled.
    worker = spawn_worker(server.url, model_cache, tmp_path / "worker.log", heartbeat_ttl="15")
    try:
        JobSubmitter(redis, settings, EventLog.for_settings(redis, settings)).submit(during)
        wait_for(redis, during.job_id, "progress", timeout=120)
        server.stop()  # Redis goes away under the running job, longer than redis-py's own retries
        time.sleep(8.0)
        server.start()
        redis = Redis.from_url(server.url)
        # Retried once its heartbeat lapsed, by the same worker, idle meanwhile: it must wake up
        # for its registry clean-up without a new job arriving.
        wait_for(redis, during.job_id, "done", timeout=180)
        JobSubmitter(redis, settings, EventLog.for_settings(redis, settings)).submit(after)
        wait_for(redis, after.job_id, "done", timeout=180)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert kinds(job_events(redis, during.job_id)).count("done") == 1


def test_an_idle_worker_wakes_for_its_registry_clean_up(redis, events):
    # RQ runs its clean-up (which retries abandoned jobs) only between waits for a job; by default
    # an idle worker waits 405 s, so a job lost mid-run waited minutes (seen in `bench soak`).
    worker = build_worker(redis, ["imagine.tiny"], events, heartbeat_ttl=5, maintenance_interval=7)
    assert worker.dequeue_timeout == 7


def test_a_clean_up_cut_short_holds_the_queues_lock_a_minute_at_most(redis, events):
    # A worker killed mid-clean-up leaves the lock behind; RQ's own lasts 899 s, during which no
    # abandoned job is retried (seen in `bench soak`: jobs lost to a Redis restart waited minutes).
    worker = build_worker(redis, ["imagine.tiny"], events, heartbeat_ttl=5, maintenance_interval=7)
    [queue] = worker.queues
    assert queue.acquire_maintenance_lock()
    assert 0 < redis.ttl(queue.registry_cleaning_key) <= 60
