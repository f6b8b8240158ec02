"""The queue depths a scrape reads from a real Redis, /metrics served over HTTP, and job ids on
log lines."""

import asyncio
import logging
import time
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.registry import FailedJobRegistry, StartedJobRegistry

from broker.local_redis import free_port
from broker.logs import JobIdFilter, current_job, job_context, log_handler
from broker.metrics import QueueDepthCollector, new_registry, serve
from broker.queues import JobSubmitter, model_queue
from broker.settings import MetricsSettings
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from jobs.specs import ImagineSpec
from models.catalog import load_catalog

PROFILE = load_catalog().get("tiny").profile()


def _spec(member: str) -> ImagineSpec:
    return imagine_spec(parse_prompt(f"a job of {member}"), PROFILE, requested_by=member)


def _depth(registry: CollectorRegistry, model: str, state: str) -> float | None:
    return registry.get_sample_value("imagine_queue_jobs", {"model": model, "state": state})


@pytest.fixture
def registry(redis: Redis) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(QueueDepthCollector(redis, ["other"]))
    return registry


def test_queue_depths_count_waiting_running_held_back_and_failed_jobs(
    redis: Redis, submitter: JobSubmitter, registry: CollectorRegistry
):
    ada = [_spec("ada") for _ in range(3)]
    for spec in ada:
        submitter.submit(spec, concurrency=2)  # the third is held back by ada's running limit
    submitter.submit(_spec("bob"), concurrency=2)
    queue = model_queue(redis, "tiny")
    running = queue.pop_job_id()  # as a worker takes a job: out of the queue, into its registry
    started = StartedJobRegistry(queue=queue)
    redis.zadd(started.key, {f"{running}:run-1": time.time() + 60})
    redis.zadd(started.key, {"gone:run-0": time.time() - 60})  # its worker died: not running
    failed = queue.fetch_job(queue.pop_job_id())
    FailedJobRegistry(queue=queue).add(failed, ttl=600, exc_string="boom")

    assert _depth(registry, "tiny", "waiting") == 1
    assert _depth(registry, "tiny", "running") == 1
    assert _depth(registry, "tiny", "held") == 1
    assert _depth(registry, "tiny", "failed") == 1
    assert [_depth(registry, "other", state) for state in ("waiting", "running", "held", "failed")] == [0] * 4
    assert registry.get_sample_value("imagine_queue_redis_up") == 1


def test_the_depths_are_read_at_each_scrape(
    redis: Redis, submitter: JobSubmitter, registry: CollectorRegistry
):
    assert _depth(registry, "tiny", "waiting") is None  # no queue yet
    submitter.submit(_spec("ada"))
    assert _depth(registry, "tiny", "waiting") == 1
    model_queue(redis, "tiny").pop_job_id()
    assert _depth(registry, "tiny", "waiting") == 0


def test_an_unreachable_redis_is_reported_not_raised():
    registry = CollectorRegistry()
    nowhere = Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    registry.register(QueueDepthCollector(nowhere, ["tiny"]))
    assert registry.get_sample_value("imagine_queue_redis_up") == 0
    assert _depth(registry, "tiny", "waiting") is None


@pytest.fixture
def served(redis: Redis) -> Iterator[str]:
    """A process registry with the queue collector, served on a free port; yields its URL."""
    registry = new_registry()
    registry.register(QueueDepthCollector(redis, ["tiny"]))
    server = serve(registry, MetricsSettings(metrics_port=free_port()))
    assert server is not None
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()
    server.server_close()


def test_metrics_are_served_over_http(served: str, submitter: JobSubmitter):
    submitter.submit(_spec("ada"))
    with urllib.request.urlopen(served, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    assert 'imagine_queue_jobs{model="tiny",state="waiting"} 1.0' in text
    assert "imagine_queue_redis_up 1.0" in text
    assert "process_cpu_seconds_total" in text  # the standard process metrics come along


def test_port_zero_serves_nothing():
    assert MetricsSettings().metrics_port == 0
    assert serve(new_registry(), MetricsSettings()) is None


def test_metrics_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IMAGINE_METRICS_PORT", "9101")
    monkeypatch.setenv("IMAGINE_METRICS_HOST", "0.0.0.0")
    settings = MetricsSettings()
    assert (settings.metrics_port, settings.metrics_host) == (9101, "0.0.0.0")


def _line(handler: logging.Handler, message: str) -> str:
    record = logging.LogRecord("diffusers.pipeline", logging.WARNING, __file__, 1, message, None, None)
    assert handler.filter(record)
    return handler.format(record)


def test_log_lines_name_the_job_only_inside_one():
    handler = log_handler()
    assert _line(handler, "outside").endswith("WARNING diffusers.pipeline: outside")
    with job_context("3f2a9c"):
        assert _line(handler, "inside").endswith("WARNING diffusers.pipeline: job=3f2a9c inside")
        with job_context("b1"):
            assert "job=b1 nested" in _line(handler, "nested")
        assert "job=3f2a9c back" in _line(handler, "back")
    assert "job=" not in _line(handler, "after")


def test_the_job_follows_tasks_and_threads_but_not_into_other_jobs():
    async def one_job(job_id: str) -> tuple[str | None, str | None]:
        with job_context(job_id):
            await asyncio.sleep(0.01)  # the other job's task runs meanwhile
            return current_job.get(), await asyncio.to_thread(current_job.get)

    async def both() -> list[tuple[str | None, str | None]]:
        return list(await asyncio.gather(one_job("a"), one_job("b")))

    assert asyncio.run(both()) == [("a", "a"), ("b", "b")]
    assert current_job.get() is None


def test_the_filter_sees_records_of_every_logger_that_reaches_its_handler(caplog: pytest.LogCaptureFixture):
    caplog.handler.addFilter(JobIdFilter())
    with caplog.at_level(logging.INFO), job_context("c0ffee"):
        logging.getLogger("rq.worker").info("Job OK")
        logging.getLogger("diffusers.models").warning("a warning")
    assert [record.job_id for record in caplog.records] == ["c0ffee", "c0ffee"]
