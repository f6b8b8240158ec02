"""Starting the real processes (`imagine-worker`, `imagine-bot`) as an operator would: for the
playground, the end-to-end tests and the benchmarks.

The scripts are the ones installed beside this Python (`pip install -e .` puts them there). Unlike
`python -m worker`, they do not import from the current directory first, so a `models.py` or a
`bot/` folder where the caller stands cannot shadow the packages."""

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from broker import monitor, startup
from emulator import BackgroundEmulator
from models.catalog import load_catalog

STARTUP_TIMEOUT = 60.0


class Process:
    """A child process whose output goes to a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = log.open("ab")
        self.popen = subprocess.Popen(args, env=env, stdout=self._file, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """As a crash would: no chance to clean up."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)
        self._file.close()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)  # reaped, so nothing it started outlives the stack as a zombie
        self._file.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class StartupError(RuntimeError):
    """A process did not come up; the message holds its output."""


def script(name: str) -> str:
    """The console script `name` installed beside this Python, or a one-line StartupError."""
    path = startup.console_script(name)
    if not path.is_file():
        raise StartupError(f"{name} is not installed: run `pip install -e .` (looked in {path.parent})")
    return str(path)


def settings_env(**settings: str) -> dict[str, str]:
    """This environment without any `IMAGINE_*` of the caller's, plus `settings` as `IMAGINE_*`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMAGINE_")}
    return {
        **env,
        "HF_HUB_OFFLINE": "1",
        **{f"IMAGINE_{key.upper()}": value for key, value in settings.items()},
    }


def start_worker(redis_url: str, model_cache: Path | None, log: Path, **settings: str) -> Process:
    """A worker on the CPU serving `models` (default: the catalog's default model), once it listens
    on their queues; more `settings` as keyword arguments. `model_cache` None keeps the worker's
    own default."""
    cache = {"model_cache": str(model_cache)} if model_cache else {}
    env = settings_env(redis_url=redis_url, device="cpu", heartbeat_ttl="5", **cache, **settings)
    catalog = Path(settings["catalog"]) if "catalog" in settings else None
    names = [name.strip() for name in settings.get("models", "").split(",") if name.strip()]
    names = names or [load_catalog(catalog).default]
    process = Process([script("imagine-worker"), "--log-level", "INFO"], env, log)
    redis = Redis.from_url(redis_url)

    _wait(process, lambda: monitor.serving(redis, names), "the worker")
    return process


def start_bot(discord: BackgroundEmulator, redis_url: str, log: Path, **settings: str) -> Process:
    """`imagine-bot` connected to the emulator, once its commands are synced and its gateway is up."""
    sessions = discord.call(lambda emulator: emulator.identify_count)
    env = settings_env(
        discord_token=discord.token,
        discord_api_base=discord.api_base,
        discord_gateway_url=discord.gateway_url,
        redis_url=redis_url,
        dev_guild_ids=str(discord.emulator.guild_id),
        consumer_name="bot",
        # Members' images are fetched from the emulator's attachment URLs, on this machine.
        **{"cdn_origins": discord.emulator.base_url, "cdn_private_ok": "true", **settings},
    )
    process = Process([script("imagine-bot")], env, log)

    def connected() -> bool:
        return discord.call(
            lambda emulator: emulator.identify_count > sessions and bool(emulator.commands(emulator.guild_id))
        )

    _wait(process, connected, "the bot")
    return process


def start_api(redis_url: str, log: Path, port: int, **settings: str) -> Process:
    """`imagine-api` on 127.0.0.1:`port`, once it answers."""
    env = settings_env(redis_url=redis_url, api_host="127.0.0.1", api_port=str(port), **settings)
    process = Process([script("imagine-api")], env, log)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    _wait(process, answers, "the API")
    return process


def _wait(process: Process, ready: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if process.popen.poll() is not None or time.monotonic() > deadline:
            process.stop()
            raise StartupError(f"{what} did not start:\n{process.output()}")
        time.sleep(0.1)
