"""A private `redis-server` on a free loopback port: the embedded default and the tests' Redis.

It requires a password, so other users of the machine cannot read or change it: a random secret,
kept in a 0600 file of its data directory (the same one on every start there, so a client that
saved the URL still gets in), and handed to the server in a 0600 config file, because its command
line is visible to every local user (`ps`).
"""

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry


class RedisUnavailableError(RuntimeError):
    """No `redis-server` binary, or it did not come up."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def probe(url: str, timeout: float = 0.5) -> Redis:
    """A client for one quick question: no retries (redis-py retries a refused password for seconds)."""
    return Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def reachable(url: str, timeout: float = 0.5) -> bool:
    try:
        return bool(probe(url, timeout).ping())
    except (RedisError, OSError):  # refused, timed out, or a password it does not take
        return False


SECRET_FILE = "redis.secret"
CONFIG_FILE = "redis.conf"


def _write_private(path: Path, text: str) -> None:
    """Writes `text` to `path`, readable and writable by this user only, even if it existed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # the mode argument applies to new files only
        file.write(text)


def directory_secret(directory: Path) -> str:
    """The password of the server that keeps its data in `directory`, made on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)  # the append-only file holds every image and prompt
    path = directory / SECRET_FILE
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            path.chmod(0o600)
            return secret
    secret = secrets.token_hex(32)  # hex: nothing to escape in a URL or in redis.conf
    _write_private(path, secret + "\n")
    return secret


class LocalRedis:
    """Runs `redis-server` in `directory`, with the append-only file on (fsync on every write) and
    `directory_secret` as its password; `url` holds the password."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailableError(
                "redis-server is not installed (Debian: apt-get install redis-server)"
            )
        self._binary = binary
        self.directory = directory
        self.port = port or free_port()
        self._secret = directory_secret(directory)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self._secret}@127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 10.0) -> "LocalRedis":
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / CONFIG_FILE
        _write_private(config, f"requirepass {self._secret}\n")
        self._process = subprocess.Popen(
            [
                self._binary,
                str(config),  # the password; the options after it are not secret
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--logfile",
                "redis.log",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not reachable(self.url, timeout=0.2):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.directory / "redis.log"
                detail = log.read_text()[-500:] if log.exists() else ""
                raise RedisUnavailableError(f"redis-server did not start on port {self.port}: {detail}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stops the server as `kill` would (SIGTERM), and waits for it."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def kill(self) -> None:
        """Stops the server at once (SIGKILL), as a power cut would."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def __enter__(self) -> "LocalRedis":
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
