"""Prometheus plumbing shared by the bot and the workers: a registry per process, the `/metrics`
server, and the queue depths, read from Redis when Prometheus scrapes (so they are always current
and cost nothing between scrapes)."""

import logging
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError

from broker.monitor import queue_depths
from broker.settings import MetricsSettings

log = logging.getLogger(__name__)

QUEUE_STATES = ("waiting", "running", "held", "failed")


def new_registry() -> CollectorRegistry:
    """A process's registry: its own metrics, plus the standard process, Python and GC ones."""
    disable_created_metrics()  # a `_created` gauge beside every counter is only noise to Prometheus
    registry = CollectorRegistry()
    for standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(standard)
    return registry


def serve(registry: CollectorRegistry, settings: MetricsSettings) -> WSGIServer | None:
    """Serves `/metrics` from a daemon thread, as configured; None when `metrics_port` is 0."""
    if not settings.metrics_port:
        return None
    server, _ = start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    log.info("serving Prometheus metrics at http://%s:%d/metrics", settings.metrics_host, server.server_port)
    return server


class QueueDepthCollector(Collector):
    """`imagine_queue_jobs{model,state}` for every model's queue, read when Prometheus scrapes."""

    def __init__(self, redis: Redis, models: Iterable[str] = ()) -> None:
        self._redis = redis
        self._models = tuple(models)

    def describe(self) -> Iterator[Metric]:
        # Names only, so registering it checks for clashes without a trip to Redis.
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        jobs, up = self._families()
        try:
            depths = queue_depths(self._redis, self._models)
        except RedisError as error:
            log.warning("could not read the queues for /metrics: %r", error)
            up.add_metric([], 0)
            yield up
            return
        for depth in depths:
            for state in QUEUE_STATES:
                jobs.add_metric([depth.model, state], getattr(depth, state))
        up.add_metric([], 1)
        yield jobs
        yield up

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "imagine_queue_jobs",
                "Jobs per model queue: waiting, running, held back by a member's running limit, failed",
                labels=["model", "state"],
            ),
            GaugeMetricFamily("imagine_queue_redis_up", "1 when Redis answered the last queue scrape"),
        )
