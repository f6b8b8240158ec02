"""The bot's and a worker's /metrics, as `imagine-bot` and `imagine-worker` serve them with
`IMAGINE_METRICS_PORT` set, scraped over HTTP while members use the bot; and their log lines that
name the job. Plus how interaction handlers are counted."""

import asyncio
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.metrics import BotMetrics, Outcome, counted
from bot.rules.policy import Refusal
from broker.local_redis import LocalRedis, free_port
from emulator import BackgroundEmulator
from jobs import custom_ids
from playground.stack import Process
from tests.bot.conftest import BotStarter, run_worker

TIMEOUT = 90.0


@pytest.fixture(scope="module")
def worker_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def worker(
    stack_redis: LocalRedis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory, worker_port: int
) -> Iterator[Process]:
    """This module's own worker, serving its metrics: it runs only this module's jobs."""
    yield from run_worker(stack_redis, model_cache, tmp_path_factory, metrics_port=str(worker_port))


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def _value(text: str, sample: str) -> float | None:
    """The value of one sample line (`name{labels}` exactly as exposed), None when absent."""
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return None


def _eventually(port: int, sample: str, expected: float) -> str:
    deadline = time.monotonic() + 10
    while (_value(text := _scrape(port), sample)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _value(text, sample) == expected, f"{sample} in\n{text}"
    return text


@pytest.mark.slow
def test_bot_and_worker_serve_their_metrics_and_log_the_job(
    discord: BackgroundEmulator, start_bot: BotStarter, worker: Process, worker_port: int
):
    channel = discord.call(lambda emulator: emulator.channel_id("general"))
    member = discord.call(lambda emulator: emulator.add_member("ada"))
    port = free_port()
    bot = start_bot(metrics_port=str(port))
    discord.slash("imagine", {"prompt": "a fox --ar 30:1"}, user_id=member, channel_id=channel)
    discord.slash("imagine", {"prompt": "a red fox --seed 7"}, user_id=member, channel_id=channel)
    discord.slash("info", {}, user_id=member, channel_id=channel)

    def result(emulator) -> dict | None:
        found = [m for m in emulator.messages(channel) if m["attachments"] and m["components"]]
        return found[0] if found else None

    posted = discord.wait_for(result, timeout=TIMEOUT)
    custom_id = posted["components"][0]["components"][0]["custom_id"]
    job_id = re.fullmatch(custom_ids.UPSCALE, custom_id)["job"]

    text = _eventually(port, "imagine_bot_result_delay_seconds_count", 1)
    interactions = 'imagine_bot_interactions_total{kind="%s",outcome="%s"}'
    assert _value(text, interactions % ("imagine", "queued")) == 1
    assert _value(text, interactions % ("imagine", "refused")) == 1
    assert _value(text, interactions % ("info", "answered")) == 1
    assert _value(text, 'imagine_bot_events_total{kind="done"}') == 1
    assert _value(text, 'imagine_bot_events_total{kind="started"}') == 1
    assert _value(text, 'imagine_queue_jobs{model="tiny",state="waiting"}') == 0
    assert _value(text, "imagine_queue_redis_up") == 1

    worker_text = _scrape(worker_port)
    done = 'imagine_worker_jobs_total{model="tiny",operation="imagine",outcome="done"}'
    assert _value(worker_text, done) == 1
    assert (
        _value(worker_text, 'imagine_worker_job_duration_seconds_count{model="tiny",operation="imagine"}')
        == 1
    )
    assert _value(worker_text, 'imagine_worker_model_loaded{device="cpu",dtype="float32",model="tiny"}') == 1

    assert re.search(rf" INFO rq\.worker: job={job_id} .*Job OK", worker.output())
    posted = rf" INFO bot\.delivery\.presenter: job={job_id} job {job_id}: posted the result"
    assert re.search(posted, bot.output())


class _Handlers:
    def __init__(self) -> None:
        self.metrics = BotMetrics()

    @counted("imagine")
    async def answer(self, outcome: Outcome) -> Outcome:
        return outcome

    @counted("upscale")
    async def crash(self) -> Outcome:
        raise RuntimeError("a bug")

    @counted("upscale")
    async def refuse(self) -> Outcome:
        raise Refusal("Already on it")


def test_each_handler_call_is_counted_with_its_outcome():
    handlers = _Handlers()
    for outcome in (Outcome.QUEUED, Outcome.QUEUED, Outcome.REFUSED):
        asyncio.run(handlers.answer(outcome))
    with pytest.raises(RuntimeError):
        asyncio.run(handlers.crash())
    with pytest.raises(Refusal):  # told the member why: a refusal, not our error
        asyncio.run(handlers.refuse())
    value = handlers.metrics.registry.get_sample_value
    assert value("imagine_bot_interactions_total", {"kind": "imagine", "outcome": "queued"}) == 2
    assert value("imagine_bot_interactions_total", {"kind": "imagine", "outcome": "refused"}) == 1
    assert value("imagine_bot_interactions_total", {"kind": "upscale", "outcome": "error"}) == 1
    assert value("imagine_bot_interactions_total", {"kind": "upscale", "outcome": "refused"}) == 1
