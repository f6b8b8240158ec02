"""The embedded default: a Redis and a worker on this machine when none is configured or running."""

import logging
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from redis import Redis

from broker import monitor, startup
from broker.local_redis import LocalRedis, RedisUnavailableError, reachable
from broker.settings import BrokerSettings
from worker.settings import WorkerSettings

log = logging.getLogger(__name__)


def data_dir() -> Path:
    """Where the embedded Redis keeps its append-only file between runs."""
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "imagine" / "redis"


WORKER_START_TIMEOUT = 120.0


class BackendError(RuntimeError):
    """The embedded Redis or worker did not start."""


@contextmanager
def redis_url_for(settings: BrokerSettings) -> Iterator[str]:
    """The configured Redis, or, when none is configured and the default is down, a local one.

    A configured Redis that does not answer is a `startup.RedisUnreachableError`."""
    if "IMAGINE_REDIS_URL" in os.environ or reachable(settings.redis_url):
        startup.redis_answers(settings.redis_url)
        yield settings.redis_url
        return
    # Persisted between runs, so `imagine upscale <job>` works after `imagine generate`.
    try:
        server = LocalRedis(data_dir()).start()
    except RedisUnavailableError as error:
        raise BackendError(str(error)) from None
    try:
        log.info("started a local redis-server on port %s", server.port)  # its URL holds the password
        yield server.url
    finally:
        server.stop()


@contextmanager
def worker_for(url: str, models: Sequence[str]) -> Iterator[None]:
    """Makes sure workers serve `models`, starting one on this machine for those none serves, for
    as long as needed (one process however many models: torch and diffusers load once)."""
    redis = Redis.from_url(url)
    missing = [model for model in dict.fromkeys(models) if not _served(redis, model)]
    if not missing:
        yield
        return
    names = ",".join(missing)
    env = {**os.environ, "IMAGINE_REDIS_URL": url, "IMAGINE_MODELS": names}
    # The worker would say the same, but only after the prompt was queued and a child started.
    startup.settings(WorkerSettings, models=names)
    script = startup.console_script("imagine-worker")
    if not script.is_file():
        raise BackendError(
            f"imagine-worker is not installed: run `pip install -e .` (looked in {script.parent})"
        )
    process = subprocess.Popen([script, "--log-level", "WARNING"], env=env, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT * len(missing)
        while not all(_served(redis, model) for model in missing):
            if process.poll() is not None:
                raise BackendError(f"the local worker exited with status {process.returncode}")
            if time.monotonic() > deadline:
                raise BackendError("the local worker did not start in time")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()  # RQ's warm shutdown: the current job finishes first
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _served(redis: Redis, model: str) -> bool:
    return monitor.serving(redis, [model])
