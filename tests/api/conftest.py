"""A running `imagine-api` (as an operator starts it) on its own Redis, with a worker serving the
shapes model, and keys made with `imagine keys create`: started once for all the API's tests."""

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

from broker import startup
from broker.local_redis import LocalRedis, free_port
from playground import stack
from playground.stack import Process
from tests.helpers import catalog_defaulting_to, private_redis


@pytest.fixture(scope="package")
def stack_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    """The Redis of the API, its worker and its keys (not flushed: job ids never repeat)."""
    yield from private_redis(tmp_path_factory, "api-redis")


@pytest.fixture(scope="package")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return catalog_defaulting_to("shapes", tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="package")
def api_worker(
    stack_redis: LocalRedis, catalog: Path, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    log = tmp_path_factory.mktemp("api-worker") / "worker.log"
    process = stack.start_worker(
        stack_redis.url, model_cache, log, catalog=str(catalog), models="shapes,tiny"
    )
    yield process
    process.stop()


@pytest.fixture(scope="package")
def api_url(
    stack_redis: LocalRedis, catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("api") / "api.log"
    process = stack.start_api(stack_redis.url, log, port, catalog=str(catalog), api_max_body_bytes="65536")
    yield f"http://127.0.0.1:{port}"
    process.stop()


ClientFor = Callable[[str], openai.OpenAI]


@pytest.fixture
def client_for(api_url: str) -> Iterator[ClientFor]:
    """The official `openai` client on the API with a key (closed after the test)."""
    made: list[openai.OpenAI] = []

    def make(key: str) -> openai.OpenAI:
        made.append(openai.OpenAI(base_url=f"{api_url}/v1", api_key=key, max_retries=0, timeout=180))
        return made[-1]

    yield make
    for client in made:
        client.close()


MakeKey = Callable[..., str]


@pytest.fixture(scope="package")
def make_key(stack_redis: LocalRedis, catalog: Path) -> MakeKey:
    """`imagine keys create NAME [options]`, as an operator runs it: the key it prints."""

    def make(name: str = "tests", *options: str) -> str:
        return keys_command(
            "create", name, *options, redis_url=stack_redis.url, catalog=catalog
        ).stdout.strip()

    return make


def keys_command(*args: str, redis_url: str, catalog: Path) -> subprocess.CompletedProcess[str]:
    env = {**stack.settings_env(redis_url=redis_url, catalog=str(catalog)), "PATH": os.environ["PATH"]}
    return subprocess.run(
        [startup.console_script("imagine"), "keys", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
