"""Shared fixtures: private redis-servers, the tiny model, and a worker driven in-process."""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis

from broker.events import EventLog
from broker.local_redis import LocalRedis
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from tests.helpers import private_redis

os.environ.setdefault("HF_HUB_OFFLINE", "1")

requires_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed: apt-get install redis-server"
)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    """One private redis-server for the session; each test gets it flushed."""
    yield from private_redis(tmp_path_factory, "redis")


@pytest.fixture(scope="module")
def stack_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    """A Redis for one module's processes: bots, workers, the API (not flushed: job ids never repeat)."""
    yield from private_redis(tmp_path_factory, "stack-redis")


@pytest.fixture
def redis(redis_server: LocalRedis) -> Iterator[Redis]:
    client = Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def make_redis(tmp_path: Path) -> Iterator[Callable[[], LocalRedis]]:
    """Starts redis-servers this test owns (to kill and restart them); all are stopped after."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: apt-get install redis-server")
    started: list[LocalRedis] = []

    def make() -> LocalRedis:
        server = LocalRedis(tmp_path / f"redis-{len(started)}").start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def broker_settings(redis_server: LocalRedis) -> BrokerSettings:
    return BrokerSettings(redis_url=redis_server.url, job_timeout=120, job_retries=2)


@pytest.fixture
def events(redis: Redis, broker_settings: BrokerSettings) -> EventLog:
    return EventLog.for_settings(redis, broker_settings)


@pytest.fixture
def submitter(redis: Redis, broker_settings: BrokerSettings, events: EventLog) -> JobSubmitter:
    return JobSubmitter(redis, broker_settings, events)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the builtin tiny model, built once per session."""
    from models.tiny import materialize_builtin  # imports torch: only for the tests that need a model

    cache = tmp_path_factory.mktemp("model-cache")
    materialize_builtin("tiny", cache)
    return cache
