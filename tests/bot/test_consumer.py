"""The event consumer against a real Redis: order per job, acknowledgement only after success,
retries of transient failures, and a restart that picks up what was left."""

import asyncio
from types import SimpleNamespace

import discord
import pytest
from redis import Redis

from bot.delivery.consumer import EventConsumer, Lane
from broker.events import EventLog
from jobs import keys
from jobs.events import Event, Progress, Queued, Started

A = "a" * 32
B = "b" * 32


def _pending(redis: Redis) -> int:
    return redis.xpending(keys.EVENTS_STREAM, keys.EVENTS_GROUP)["pending"]


async def _consume(consumer: EventConsumer, until, timeout: float = 10.0) -> None:
    """Runs the consumer until `until()` holds, then stops it."""
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(timeout):
            while not until():
                await asyncio.sleep(0.02)
            await consumer.idle()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_events_of_one_job_are_shown_in_order_and_then_acknowledged(redis: Redis, events: EventLog):
    for step in range(1, 6):
        events.publish(Progress(job_id=A, step=step, total=5))
    seen: list[int] = []

    async def handle(event: Event, lane: Lane) -> None:
        await asyncio.sleep(0.01)
        seen.append(event.step)

    asyncio.run(_consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: len(seen) == 5))
    assert seen == [1, 2, 3, 4, 5]
    assert _pending(redis) == 0


def test_a_newer_event_of_the_same_job_supersedes_an_older_one(redis: Redis, events: EventLog):
    events.publish(Queued(job_id=A, position=1))
    events.publish(Started(job_id=A, worker="w"))
    events.publish(Queued(job_id=B, position=2))
    flags: dict[tuple[str, str], bool] = {}

    async def handle(event: Event, lane: Lane) -> None:
        flags[event.job_id, event.kind] = lane.superseded

    asyncio.run(_consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: len(flags) == 3))
    assert flags == {(A, "queued"): True, (A, "started"): False, (B, "queued"): False}


def _rate_limited() -> discord.HTTPException:
    """What discord.py raises once it gave up waiting out 429s (five tries)."""
    return discord.HTTPException(SimpleNamespace(status=429, reason="Too Many Requests"), "rate limited")


@pytest.mark.parametrize(
    "failure", [lambda: ConnectionResetError("Discord went away"), _rate_limited], ids=["network", "429"]
)
def test_a_transient_failure_leaves_the_event_pending_until_it_is_claimed_again(
    redis: Redis, events: EventLog, failure
):
    events.publish(Started(job_id=A, worker="w"))
    attempts: list[float] = []

    async def handle(event: Event, lane: Lane) -> None:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) == 1:
            raise failure()

    consumer = EventConsumer(redis, handle, consumer="bot", retry_after=0.3, block_ms=50)
    asyncio.run(_consume(consumer, lambda: len(attempts) == 2))
    assert attempts[1] - attempts[0] >= 0.3
    assert _pending(redis) == 0


def test_a_bug_in_showing_an_event_does_not_block_the_stream(redis: Redis, events: EventLog):
    events.publish(Started(job_id=A, worker="w"))
    events.publish(Started(job_id=B, worker="w"))
    seen: list[str] = []

    async def handle(event: Event, lane: Lane) -> None:
        seen.append(event.job_id)
        if event.job_id == A:
            raise KeyError("a bug")

    asyncio.run(_consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: len(seen) == 2))
    assert _pending(redis) == 0


def test_a_restarted_consumer_shows_what_the_stopped_one_had_read(redis: Redis, events: EventLog):
    events.publish(Started(job_id=A, worker="w"))
    events.publish(Progress(job_id=A, step=1, total=4))
    redis.xgroup_create(keys.EVENTS_STREAM, keys.EVENTS_GROUP, id="0")
    redis.xreadgroup(keys.EVENTS_GROUP, "bot", {keys.EVENTS_STREAM: ">"})  # read, then the process died
    assert _pending(redis) == 2
    seen: list[str] = []

    async def handle(event: Event, lane: Lane) -> None:
        seen.append(event.kind)

    asyncio.run(_consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: len(seen) == 2))
    assert seen == ["started", "progress"]
    assert _pending(redis) == 0


def test_a_malformed_entry_is_dropped(redis: Redis, events: EventLog):
    redis.xadd(keys.EVENTS_STREAM, {"job": A, "event": "{not json"})
    events.publish(Started(job_id=A, worker="w"))
    seen: list[str] = []

    async def handle(event: Event, lane: Lane) -> None:
        seen.append(event.kind)

    asyncio.run(
        _consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: seen == ["started"])
    )
    assert _pending(redis) == 0


@pytest.mark.parametrize("existing", [True, False])
def test_the_group_reads_the_stream_from_its_start(redis: Redis, events: EventLog, existing: bool):
    if existing:
        redis.xgroup_create(keys.EVENTS_STREAM, keys.EVENTS_GROUP, id="0", mkstream=True)
    events.publish(Started(job_id=A, worker="w"))
    seen: list[str] = []

    async def handle(event: Event, lane: Lane) -> None:
        seen.append(event.kind)

    asyncio.run(
        _consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: seen == ["started"])
    )


def test_a_lane_wakes_a_waiting_edit_as_soon_as_a_newer_event_arrives(redis: Redis, events: EventLog):
    events.publish(Progress(job_id=A, step=1, total=4))
    waited: list[tuple[bool, float]] = []

    async def handle(event: Event, lane: Lane) -> None:
        if event.kind == "progress":
            began = asyncio.get_running_loop().time()
            events.publish(Started(job_id=A, worker="w"))  # arrives while the edit waits
            superseded = await lane.wait_superseded(5.0)
            waited.append((superseded, asyncio.get_running_loop().time() - began))

    asyncio.run(_consume(EventConsumer(redis, handle, consumer="bot", block_ms=50), lambda: bool(waited)))
    [(superseded, seconds)] = waited
    assert superseded
    assert seconds < 2.0


def test_the_consumer_waits_out_a_redis_restart_and_carries_on(make_redis):
    server = make_redis()
    redis = Redis.from_url(server.url)
    events = EventLog(redis, maxlen=1000, marker_ttl=60)
    seen: list[str] = []

    async def handle(event: Event, lane: Lane) -> None:
        seen.append(event.job_id)

    async def scenario() -> None:
        consumer = EventConsumer(redis, handle, consumer="bot", block_ms=50, max_pause=0.5)
        task = asyncio.create_task(consumer.run())
        async with asyncio.timeout(30):
            events.publish(Started(job_id=A, worker="w"))
            while seen != [A]:
                await asyncio.sleep(0.02)
            await asyncio.to_thread(server.stop)  # Redis goes away under the blocked read
            await asyncio.sleep(0.5)
            assert not task.done(), "the consumer gave up when Redis went away"
            await asyncio.to_thread(server.start)
            events.publish(Started(job_id=B, worker="w"))
            while seen != [A, B]:
                await asyncio.sleep(0.02)
            await consumer.idle()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(scenario())
        assert _pending(redis) == 0
    finally:
        redis.close()
