"""Small test utilities that read what the system wrote to Redis."""

import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from redis import Redis

from broker import startup
from broker.images import cut_image
from broker.local_redis import LocalRedis
from jobs import keys
from jobs.events import EVENT, Event
from models.catalog import DEFAULT_CATALOG, load_catalog
from training.shapes.measure import Reading, read

SEED_ARTICLE = (
    "(8k, RAW photo:1.2), best quality, ultra high res, (photorealistic:1.4), [blurry], ((masterpiece)),"
    " a girl in a \\(yellow\\) raincoat, <lora:cuteGirlMix4_v10:0.3>"
)
"""A prompt as A1111 and civitai members write them: emphasis, escapes and a LoRA tag."""


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


def catalog_defaulting_to(model: str, folder: Path) -> Path:
    """The built-in catalog with `model` as its default, written to `folder/catalog.toml`."""
    text, count = re.subn(
        r'^default = ".*"$', f'default = "{model}"', DEFAULT_CATALOG.read_text(), flags=re.M
    )
    assert count == 1, "the built-in catalog names its default on a line of its own"
    catalog = folder / "catalog.toml"
    catalog.write_text(text, encoding="utf-8")
    assert load_catalog(catalog).default == model
    return catalog


def grid_readings(data: bytes) -> list[Reading]:
    """What each image of a 2×2 grid shows, read from its pixels (`training.shapes.measure`)."""
    return [read(cut_image(data, index, 4)) for index in range(1, 5)]


def matching(readings: list[Reading], **expected: object) -> int:
    """How many of `readings` show every `expected` attribute (colour="red", shape="circle", …)."""
    return sum(all(getattr(seen, name) == value for name, value in expected.items()) for seen in readings)


def spawn_worker(url: str, model_cache: Path, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    """`imagine-worker` serving the tiny model on the CPU, with a 2 s heartbeat (a killed worker's
    jobs come back quickly) and `settings` as more `IMAGINE_*` variables; its output goes to `log`."""
    env = {
        **os.environ,
        "IMAGINE_REDIS_URL": url,
        "IMAGINE_MODEL_CACHE": str(model_cache),
        "IMAGINE_MODELS": "tiny",
        "IMAGINE_DEVICE": "cpu",
        "IMAGINE_HEARTBEAT_TTL": "2",
        "IMAGINE_MAINTENANCE_INTERVAL": "1",
        **{f"IMAGINE_{name.upper()}": value for name, value in settings.items()},
    }
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [startup.console_script("imagine-worker"), "--log-level", "INFO"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def private_redis(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LocalRedis]:
    """A redis-server of its own in a temporary folder, for a fixture to yield from."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: apt-get install redis-server")
    with LocalRedis(tmp_path_factory.mktemp(name)) as server:
        yield server
