"""`python -m bench latency`: how fast members see answers, measured through the Discord emulator.

Starts a private redis-server, a worker with the catalog's default model (the shapes model) on the
CPU, the Discord emulator and the real bot, as `playground/stack.py` starts them (`imagine-worker`,
`imagine-bot`), then sends `/imagine` prompts one after another and prints, per prompt:

- interaction → first answer: from the emulator dispatching INTERACTION_CREATE to the bot's
  callback arriving (Discord allows 3 s);
- done → result posted: from the worker's `done` event to the emulator creating the result message.

    .venv/bin/python -m bench latency [--prompts 20]

Nothing here imports torch: the worker is a separate process.
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from discord.utils import snowflake_time
from redis import Redis

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator, DiscordEmulator
from jobs import custom_ids, keys
from jobs.events import EVENT, Done
from playground.stack import StartupError, start_bot, start_worker

ACK_BUDGET = 3.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        acks, posts = _run(args.prompts)
    except StartupError as error:  # a process did not come up: its own output says why
        print(error, file=sys.stderr)
        return 1
    _report("interaction → first answer", acks)
    _report("done → result posted", posts)
    print(f"slowest first answer uses {max(acks) / ACK_BUDGET:.1%} of Discord's {ACK_BUDGET:.0f} s budget")
    return 0


def _run(prompts: int) -> tuple[list[float], list[float]]:
    """The stack up, `prompts` prompts timed, the stack down: (first answers, result posts) in s."""
    with tempfile.TemporaryDirectory(prefix="imagine-bench-latency-") as scratch:
        root = Path(scratch)
        with LocalRedis(root / "redis") as server, BackgroundEmulator() as discord:
            worker = start_worker(server.url, root / "models", root / "worker.log")
            try:
                bot = start_bot(discord, server.url, root / "bot.log")
                try:
                    timings = _measure(discord, Redis.from_url(server.url), prompts)
                finally:
                    bot.stop()
            finally:
                worker.stop()
            assert not discord.violations, discord.violations
    return timings


def _measure(discord: BackgroundEmulator, redis: Redis, prompts: int) -> tuple[list[float], list[float]]:
    channel = discord.call(lambda emulator: emulator.channel_id("general"))
    member = discord.call(lambda emulator: emulator.add_member("bench"))
    acks, posts = [], []
    for n in range(prompts):
        interaction = discord.slash(
            "imagine", {"prompt": f"a blue square {n} --seed {n}"}, user_id=member, channel_id=channel
        )

        def posted(emulator: DiscordEmulator, n: int = n) -> dict | None:
            results = [
                m for m in emulator.messages(channel) if m["components"] and f"square {n} " in m["content"]
            ]
            return results[0] if results else None

        result = discord.wait_for(posted, timeout=60)
        done = _done_event(redis, _job(result))
        acks.append(interaction.acknowledged_at - interaction.created_at)
        posts.append(snowflake_time(int(result["id"])).timestamp() - done.at)
        time.sleep(0.2)
    return acks, posts


def _job(message: dict) -> str:
    custom_id = message["components"][0]["components"][0]["custom_id"]
    return re.fullmatch(custom_ids.UPSCALE, custom_id)["job"]


def _done_event(redis: Redis, job: str) -> Done:
    for _, fields in redis.xrange(keys.EVENTS_STREAM):
        event = EVENT.validate_json(fields[b"event"])
        if isinstance(event, Done) and event.job_id == job:
            return event
    raise LookupError(f"no done event for {job}")


def _report(what: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    median = statistics.median(ms)
    print(f"{what}: median {median:.0f} ms · p95 {p95:.0f} ms · max {ms[-1]:.0f} ms (n={len(ms)})")


def _prompts(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"`{text}`: give a whole number of prompts, at least 1")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench latency", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prompts", type=_prompts, default=20, help="/imagine prompts sent one after another (default: 20)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
