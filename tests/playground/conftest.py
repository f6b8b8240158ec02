"""The playground as `make run` starts it, shared by its tests; where the browser test leaves its
screenshots, named at the end of the test run."""

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest

from broker.local_redis import free_port

SCREENSHOTS = Path(__file__).parents[2] / "test-output"
STARTUP = 120.0
taken: list[Path] = []


@dataclass(frozen=True)
class RunningPlayground:
    url: str
    """The page's address."""
    log: Path
    """What the playground printed."""

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="package")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlayground]:
    """`imagine-playground` on free ports (the page's and the API's), as `make run` starts it, once it
    serves; SIGTERM then stops it and everything it started."""
    port = free_port()
    log = tmp_path_factory.mktemp("playground") / "playground.log"
    script = Path(sys.executable).parent / "imagine-playground"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(script), "--port", str(port), "--api-port", "0"], stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP
    while not _serving(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the playground did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield RunningPlayground(url, log)
    children = _children(process.pid)
    assert children, "the playground runs Redis, a worker, the bot and the API as its children"
    process.terminate()
    process.wait(30)
    left = [pid for pid in children if _running(pid)]
    assert not left, f"SIGTERM left the playground's processes {left} running"


def _serving(url: str) -> bool:
    try:
        with urlopen(f"{url}/api/view", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    """Whether `pid` still runs: a zombie (exited, waiting for the init process to reap it) does not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for path in taken:
        terminalreporter.write_line(f"playground screenshot: {path}")
