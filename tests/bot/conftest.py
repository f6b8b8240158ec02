"""The real bot process, a real worker, a private Redis and the Discord emulator.

The bot and the worker default to the random-weights tiny model: these tests are about Discord, and
speed matters more to them than what the pictures show. The shapes model is in their catalog too,
for the tests that read the pictures (`--model shapes`, with a worker that serves it).
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator
from playground import stack
from playground.stack import Process, StartupError
from tests.helpers import catalog_defaulting_to


def run_worker(
    redis: LocalRedis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory, **settings: str
) -> Iterator[Process]:
    """`imagine-worker` with the tiny model (and `settings`) for a module fixture to `yield from`."""
    folder = tmp_path_factory.mktemp("worker")
    settings = {"catalog": str(catalog_defaulting_to("tiny", folder)), **settings}
    try:
        process = stack.start_worker(redis.url, model_cache, folder / "worker.log", **settings)
    except StartupError as error:
        pytest.fail(str(error))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def worker(
    stack_redis: LocalRedis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    """`imagine-worker` serving the tiny model, as an operator runs it."""
    yield from run_worker(stack_redis, model_cache, tmp_path_factory)


@pytest.fixture
def stack_url(stack_redis: LocalRedis, worker: Process) -> str:
    """The Redis URL of a running worker."""
    return stack_redis.url


@pytest.fixture
def discord() -> Iterator[BackgroundEmulator]:
    """Discord, emulated: every request the bot makes is checked against Discord's OpenAPI spec."""
    with BackgroundEmulator() as emulator:
        yield emulator
        assert emulator.violations == [], "the bot sent requests that break Discord's API spec"


@pytest.fixture
def channel(discord: BackgroundEmulator) -> int:
    """#general, where the members ask."""
    return discord.call(lambda emulator: emulator.channel_id("general"))


@pytest.fixture
def member(discord: BackgroundEmulator) -> int:
    """A member of the server without special permissions."""
    return discord.call(lambda emulator: emulator.add_member("ada"))


BotStarter = Callable[..., Process]


@pytest.fixture
def start_bot(
    discord: BackgroundEmulator,
    stack_url: str,
    worker: Process,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[BotStarter]:
    """Starts `imagine-bot` against the emulator (settings as keyword arguments); its log is
    printed when the test fails."""
    started: list[Process] = []

    catalog = str(catalog_defaulting_to("tiny", tmp_path))

    def start(**settings: str) -> Process:
        settings = {"catalog": catalog, **settings}
        try:
            process = stack.start_bot(discord, stack_url, tmp_path / f"bot-{len(started)}.log", **settings)
        except StartupError as error:
            pytest.fail(str(error))
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in [*started, worker]:
            if process is not None:  # a module may run without a worker
                print(f"--- {process.log.name}\n{process.output()[-20_000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
