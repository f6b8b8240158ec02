"""A worker with the tiny model, driven in-process with `work(burst=True)` as RQ's own tests do."""

from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis

from broker.settings import BrokerSettings
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.runner import ResidentWorker
from worker.settings import WorkerSettings


@pytest.fixture(scope="session")
def worker_settings(model_cache: Path) -> WorkerSettings:
    return WorkerSettings(
        models=["tiny"],
        model_cache=model_cache,
        device="cpu",
        heartbeat_ttl=2,
        maintenance_interval=1,
        previews=4,
    )


@pytest.fixture(scope="session")
def engines(worker_settings: WorkerSettings) -> dict[str, Engine]:
    return load_engines(worker_settings)


@pytest.fixture
def run_worker(
    redis: Redis, broker_settings: BrokerSettings, worker_settings: WorkerSettings, engines: dict[str, Engine]
) -> Callable[[], ResidentWorker]:
    """Runs a worker until the queues are empty, then returns it."""

    def run() -> ResidentWorker:
        worker = prepare(redis, broker_settings, worker_settings, engines)
        worker.work(burst=True)
        return worker

    return run
