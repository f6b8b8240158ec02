"""Riding out a Redis that went away (a restart, a network cut) without the worker quitting.

RQ's work loop retries a lost connection only while it waits for a job; anywhere else (a job that
was running, the registries' clean-up, the suspension check) it quits, and its teardown fails on the
same lost connection, so the worker process dies. Here each of those steps waits for Redis instead.
A job that was running when Redis went away is left to RQ's clean-up, which retries it once its
heartbeat has lapsed; its `done` marker keeps it from being announced twice.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from redis import Redis
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker

log = logging.getLogger(__name__)

LOST = (RedisConnectionError, RedisTimeoutError)
MAX_PAUSE = 10.0
"""Longest wait, in seconds, between two tries to reach Redis again."""


@contextmanager
def riding_out(worker: Worker, what: str) -> Iterator[None]:
    """Runs the block; if it loses Redis, waits until Redis answers again (or the worker is told
    to stop) instead of raising."""
    try:
        yield
    except LOST as error:
        log.warning("lost Redis while %s (%r); waiting for it to come back", what, error)
        # RQ's SIGTERM handler sets `_stop_requested`: then the worker ends as it always does.
        back = wait_for_redis(worker.connection, stopping=lambda: worker._stop_requested)
        if back and not worker.connection.exists(worker.key):  # its record lapsed meanwhile
            worker.register_birth()


def wait_for_redis(redis: Redis, stopping: Callable[[], bool] = lambda: False) -> bool:
    """Returns True once Redis answers, or False as soon as `stopping()` says to give up."""
    backoff = EqualJitterBackoff(cap=MAX_PAUSE, base=0.25)
    failures = 0
    while not stopping():
        try:
            redis.ping()
        except LOST:
            failures += 1
            if failures == 1:
                log.warning("Redis does not answer; trying again with pauses of up to %.0f s", MAX_PAUSE)
            time.sleep(backoff.compute(failures))
            continue
        if failures:
            log.info("Redis answers again after %d failed tries; carrying on", failures)
        return True
    return False
