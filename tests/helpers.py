"""Small test utilities that read what the system wrote to Redis."""

import io
import time

from PIL import Image
from redis import Redis

from jobs import keys
from jobs.events import EVENT, Event


def job_events(redis: Redis, job_id: str) -> list[Event]:
    """Every event of `job_id` in the stream, oldest first."""
    entries = redis.xrange(keys.EVENTS_STREAM)
    return [
        EVENT.validate_json(fields[b"event"]) for _, fields in entries if fields[b"job"].decode() == job_id
    ]


def kinds(events: list[Event]) -> list[str]:
    return [event.kind for event in events]


def wait_for(redis: Redis, job_id: str, kind: str, *, timeout: float) -> Event:
    """Polls the stream until `job_id` has an event of `kind`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in job_events(redis, job_id):
            if event.kind == kind:
                return event
        time.sleep(0.05)
    raise AssertionError(
        f"no {kind} event for {job_id} after {timeout} s: {kinds(job_events(redis, job_id))}"
    )


def image(data: bytes) -> Image.Image:
    loaded = Image.open(io.BytesIO(data))
    loaded.load()
    return loaded
