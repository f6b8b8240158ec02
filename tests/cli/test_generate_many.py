"""`imagine generate` with `{…}` options and `--repeat`: a grid per job, named in order, run in-process
against a real Redis and a real worker on the tiny model."""

import contextlib
import threading
import time
from pathlib import Path

import pytest
from redis import Redis

import cli.main
from broker.queues import model_queue
from broker.settings import BrokerSettings
from tests.helpers import image
from worker.boot import load_engines, prepare
from worker.settings import WorkerSettings


def test_generate_writes_a_numbered_grid_per_combination_and_repeat(
    redis: Redis,
    redis_server,
    broker_settings: BrokerSettings,
    model_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("IMAGINE_REDIS_URL", redis_server.url)
    monkeypatch.setattr(cli.main, "worker_for", lambda url, models: contextlib.nullcontext())
    output = tmp_path / "kite.png"
    prompt = "a {red, blue} kite --model tiny --steps 1 --seed 3 --r 2"
    status: list[int] = []
    command = threading.Thread(
        target=lambda: status.append(cli.main.main(["generate", prompt, "-o", str(output)]))
    )
    command.start()
    deadline = time.monotonic() + 30
    while model_queue(redis, "tiny").count < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    settings = WorkerSettings(models=["tiny"], model_cache=model_cache, device="cpu")
    # The worker in this thread and the command in another: RQ sets signal handlers.
    prepare(redis, broker_settings, settings, load_engines(settings)).work(burst=True)
    command.join(timeout=60)

    assert status == [0], capsys.readouterr().err
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [str(tmp_path / f"kite-{n}.png") for n in range(1, 5)]
    assert [line.split("seeds ")[1].split("  ")[0] for line in lines] == ["3, 4, 5, 6", "7, 8, 9, 10"] * 2
    assert all(image((tmp_path / f"kite-{n}.png").read_bytes()).format == "PNG" for n in range(1, 5))
