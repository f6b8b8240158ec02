"""An operator's mistake ends a process with one line that names the variable, before anything slow.

Each case runs a real entry point (`python -m bot`, `python -m worker`, `imagine`, `python -m
playground`) with a clean environment and reads what it wrote to stderr.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import BotSettings
from broker import startup
from broker.local_redis import LocalRedis, free_port
from broker.settings import BrokerSettings
from playground.stack import settings_env
from worker.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "a-token"


def _run(*args: str, **settings: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, *args],
        env=settings_env(**settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stderr


def _one_line(status: int, stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert status != 0
    return lines[0]


def _unreachable(password: str = "") -> str:
    credentials = f":{password}@" if password else ""
    return f"redis://{credentials}127.0.0.1:{free_port()}/0"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    with LocalRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


BOT = ("-m", "bot")
WORKER = ("-m", "worker")
CLI = ("-m", "cli.main", "status")


@pytest.mark.parametrize(
    ("command", "settings", "expected"),
    [
        (BOT, {}, "IMAGINE_DISCORD_TOKEN is not set: "),
        (BOT, {"discord_token": ""}, "IMAGINE_DISCORD_TOKEN is empty: "),
        (BOT, {"discord_token": TOKEN, "dev_guild_ids": "abc"}, "IMAGINE_DEV_GUILD_IDS=abc is not allowed: "),
        (
            BOT,
            {"discord_token": TOKEN, "progress_interval": "0.5"},
            "IMAGINE_PROGRESS_INTERVAL=0.5 is not allowed: use a number of at least 1",
        ),
        (
            BOT,
            {"discord_token": TOKEN, "vary_strength": "huge"},
            "IMAGINE_VARY_STRENGTH=huge is not allowed: use subtle or strong",
        ),
        (WORKER, {"dtype": "fp17"}, "IMAGINE_DTYPE=fp17 is not allowed: use auto, fp16, bf16 or fp32"),
        (WORKER, {"heartbeat_ttl": "x"}, "IMAGINE_HEARTBEAT_TTL=x is not allowed: use a whole number"),
        (WORKER, {"batch_jobs": "9"}, "IMAGINE_BATCH_JOBS=9 is not allowed: use a number of at most 8"),
        (WORKER, {"job_retries": "-1"}, "IMAGINE_JOB_RETRIES=-1 is not allowed: use a number of at least 0"),
        (WORKER, {"speedups": "warp"}, "IMAGINE_SPEEDUPS=warp is not allowed: "),
        (WORKER, {"models": "nope"}, "IMAGINE_MODELS=nope is not allowed: There is no model `nope`"),
        (CLI, {"artifact_ttl": "0"}, "IMAGINE_ARTIFACT_TTL=0 is not allowed: use a number above 0"),
        (
            ("-m", "playground"),
            {"events_maxlen": "many"},
            "IMAGINE_EVENTS_MAXLEN=many is not allowed: use a whole number",
        ),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else None,
)
def test_a_bad_setting_is_one_line_naming_it(command, settings, expected, redis_url):
    line = _one_line(*_run(*command, **{"redis_url": redis_url, **settings}))
    assert line.startswith(expected) or f": {expected}" in line, line


@pytest.mark.parametrize("command", [BOT, WORKER, CLI, ("-m", "playground")], ids=lambda c: c[1])
def test_a_missing_catalog_is_one_line(command, redis_url, tmp_path):
    missing = tmp_path / "catalog.toml"
    line = _one_line(*_run(*command, discord_token=TOKEN, redis_url=redis_url, catalog=str(missing)))
    assert line.endswith(f"IMAGINE_CATALOG={missing}: no such file"), line


@pytest.mark.parametrize("command", [BOT, WORKER], ids=lambda c: c[1])
def test_a_catalog_that_does_not_validate_is_one_line(command, redis_url, tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('default = "a"\nmodels = []\n')
    line = _one_line(*_run(*command, discord_token=TOKEN, redis_url=redis_url, catalog=str(catalog)))
    assert line.startswith(f"IMAGINE_CATALOG={catalog}: "), line
    assert "at least one model" in line


def test_every_bad_setting_gets_its_line():
    status, stderr = _run(*WORKER, dtype="fp17", previews="-2", heartbeat_ttl="30")
    assert "Traceback" not in stderr
    assert status != 0
    assert sorted(line.split("=")[0] for line in stderr.strip().splitlines()) == [
        "IMAGINE_DTYPE",
        "IMAGINE_PREVIEWS",
    ]


@pytest.mark.parametrize("command", [BOT, WORKER, CLI, ("-m", "playground")], ids=lambda c: c[1])
def test_an_unreachable_redis_is_one_line_without_its_password(command, tmp_path):
    url = _unreachable(password="hunter2")
    line = _one_line(*_run(*command, discord_token=TOKEN, redis_url=url))
    masked = url.replace("hunter2", "***")
    assert line.endswith(f"IMAGINE_REDIS_URL={masked}: cannot connect (Connection refused)"), line


def test_the_worker_checks_redis_before_it_loads_a_model(tmp_path):
    status, stderr = _run(*WORKER, "--log-level", "INFO", redis_url=_unreachable(), device="cpu")
    assert "loaded model" not in stderr
    assert _one_line(status, stderr).startswith("IMAGINE_REDIS_URL=")


def test_a_wrong_password_is_told_apart(redis_url):
    wrong = redis_url.replace("://:", "://:wrong")
    line = _one_line(*_run(*WORKER, redis_url=wrong))
    assert "wrong" not in line.replace("password is wrong", "")
    assert line.startswith("IMAGINE_REDIS_URL=redis://:***@127.0.0.1:"), line
    assert "password" in line


# CatalogSettings is left out: any text is a path (a missing file is the catalog's own check, above).
@pytest.mark.parametrize("cls", [BotSettings, WorkerSettings, BrokerSettings])
def test_any_setting_that_refuses_a_value_names_itself_in_one_line(cls, monkeypatch):
    """Not only the settings above: every field of every settings class, with a value none takes."""
    monkeypatch.setenv("IMAGINE_DISCORD_TOKEN", TOKEN)
    refused = 0
    for field in cls.model_fields:
        name = f"IMAGINE_{field.upper()}"
        with monkeypatch.context() as patch:
            patch.setenv(name, "-1x")
            try:
                startup.settings(cls)
            except startup.StartupError as error:
                refused += 1
                assert error.lines == (error.lines[0],), error.lines
                assert error.lines[0].startswith(f"{name}=-1x is not allowed: "), error.lines
    assert refused >= 1


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
        ("rediss://user:s3cret@host/0?ssl_ca_certs=/ca.crt", "rediss://user:***@host/0?ssl_ca_certs=/ca.crt"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis://user@host/0", "redis://user@host/0"),
    ],
)
def test_a_url_is_shown_without_its_password(url, masked):
    assert startup.mask_url(url) == masked
