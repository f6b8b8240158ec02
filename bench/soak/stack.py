"""The processes under test, started as an operator would, and a supervisor that restarts any that
exit: the ones the harness killed (a fault) and the ones that died on their own (a finding)."""

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator
from models.catalog import DEFAULT_CATALOG
from playground import stack
from playground.stack import Process

WORKER_SETTINGS = {"maintenance_interval": "2", "previews": "1"}
"""With playground.stack's 5 s heartbeat, a killed worker's jobs come back within seconds."""


@dataclass
class Death:
    """A process the harness did not kill that exited on its own."""

    name: str
    at: float
    exit_code: int | None
    log_tail: str
    faults_before: list[str] = field(default_factory=list)


def catalog_defaulting_to_tiny(folder: Path) -> Path:
    """The built-in catalog with the tiny model as its default (as the end-to-end tests use)."""
    text = re.sub(r'^default = ".*"$', 'default = "tiny"', DEFAULT_CATALOG.read_text(), flags=re.M)
    catalog = folder / "catalog.toml"
    catalog.write_text(text, encoding="utf-8")
    return catalog


class Stack:
    """Redis, the emulator, one bot and `workers` workers, in `root`; `on_death` names the faults
    that came just before a death (for the report)."""

    def __init__(self, root: Path, workers: int, discord: BackgroundEmulator) -> None:
        self.root = root
        self.discord = discord
        self.redis = LocalRedis(root / "redis")
        self.catalog = str(catalog_defaulting_to_tiny(root))
        self.processes: dict[str, Process] = {}
        self.starts: dict[str, int] = {}
        self.deaths: list[Death] = []
        self.refused_starts: list[Death] = []
        """Starts refused with the one-line startup error because Redis was down (the harness was
        restarting it): a supervisor that restarts on failure just tries again, so not a death."""
        self.recent_faults: list[tuple[float, str]] = []
        self._worker_names = [f"worker-{n + 1}" for n in range(workers)]
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="soak-supervisor", daemon=True)
        # Two workers and a bot on a couple of cores: one thread each keeps the bot answering in time.
        os.environ.setdefault("OMP_NUM_THREADS", "1")

    def start(self) -> None:
        self.redis.start()
        for name in self._worker_names:  # one after the other: the first builds the model cache
            self.start_process(name)
        self.start_process("bot")
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor.ident is not None:  # started: start() got that far
            self._supervisor.join(10)
        with self._lock:
            for process in self.processes.values():
                process.stop()
        self.redis.stop()

    def start_process(self, name: str) -> Process:
        with self._lock:
            count = self.starts.get(name, 0)
            log = self.root / f"{name}.{count}.log"
            if name == "bot":
                process = stack.start_bot(self.discord, self.redis.url, log, catalog=self.catalog)
            else:
                process = stack.start_worker(
                    self.redis.url,
                    self.root / "models",
                    log,
                    catalog=self.catalog,
                    **WORKER_SETTINGS,
                )
            self.processes[name] = process
            self.starts[name] = count + 1
            return process

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would; the caller restarts it (as a supervisor would)."""
        with self._lock:
            self.processes[name].kill()

    def restart_redis(self) -> None:
        """Stops redis-server (SIGTERM) and starts it again on the same port and directory: the
        append-only file brings the data back."""
        with self._lock:
            self.redis.stop()
            self.redis.start()

    @property
    def worker_names(self) -> list[str]:
        return list(self._worker_names)

    def bot_up(self) -> bool:
        with self._lock:
            bot = self.processes.get("bot")
            return bot is not None and bot.popen.poll() is None

    def check(self) -> list[Death]:
        """Records and restarts every process that exited on its own since the last check."""
        found = []
        with self._lock:
            for name, process in list(self.processes.items()):
                code = process.popen.poll()
                if code is None or process._file.closed:  # still up, or killed by the harness
                    continue
                process.stop()
                now = time.time()
                faults = [
                    f"{kind} {now - at:.1f}s before" for at, kind in self.recent_faults if now - at < 30
                ]
                death = Death(name, now, code, _tail(process), faults[-3:])
                if _refused_for_redis(death.log_tail):
                    self.refused_starts.append(death)
                    time.sleep(1.0)  # as a supervisor's restart back-off would
                else:
                    self.deaths.append(death)
                    found.append(death)
                try:
                    self.start_process(name)
                except stack.StartupError as error:
                    failure = Death(name, time.time(), None, f"restart failed: {error}"[-2000:])
                    (self.refused_starts if _refused_for_redis(str(error)) else self.deaths).append(failure)
        return found

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            self.check()


def _refused_for_redis(output: str) -> bool:
    """Whether a process ended on its startup check's one line for a Redis that does not answer."""
    lines = output.strip().splitlines()
    return bool(lines) and lines[-1].startswith("IMAGINE_REDIS_URL=") and "cannot connect" in lines[-1]


def _tail(process: Process, lines: int = 25) -> str:
    try:
        return "\n".join(process.output().splitlines()[-lines:])
    except OSError:
        return ""
