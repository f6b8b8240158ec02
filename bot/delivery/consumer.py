"""Reading the engine's events through a Redis Stream consumer group.

An event is acknowledged only after it was shown (or found to need nothing), so events read by a
bot that stopped are read again by the next one. Events of one job are handled in order, one at a
time; different jobs proceed side by side.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import discord
from pydantic import ValidationError
from redis import Redis
from redis.backoff import EqualJitterBackoff
from redis.exceptions import RedisError, ResponseError

from jobs import keys
from jobs.events import EVENT, Event

log = logging.getLogger(__name__)

Handler = Callable[[Event, "Lane"], Awaitable[None]]
"""Shows one event; the lane tells whether a newer event of the same job waits."""

TRANSIENT = (discord.DiscordServerError, aiohttp.ClientError, asyncio.TimeoutError, RedisError, OSError)
"""Failures worth another try: the event stays pending and is claimed again later."""


class Lane:
    """One job's events, handled one at a time in arrival order."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.waiting = 0
        self._arrived = asyncio.Event()

    @property
    def superseded(self) -> bool:
        """Whether a newer event of this job waits behind the one being handled."""
        return self.waiting > 0

    async def wait_superseded(self, timeout: float) -> bool:
        """Waits up to `timeout` seconds for a newer event; returns whether one came."""
        if not self.superseded:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        return self.superseded

    def _add(self) -> None:
        self.waiting += 1
        self._arrived.set()


class EventConsumer:
    def __init__(
        self,
        redis: Redis,
        handle: Handler,
        *,
        consumer: str,
        retry_after: float = 30.0,
        block_ms: int = 1000,
        max_pause: float = 10.0,
    ) -> None:
        self._redis = redis
        self._handle = handle
        self._consumer = consumer
        self._retry_after_ms = int(retry_after * 1000)
        self._block_ms = block_ms
        self._lanes: dict[str, Lane] = {}
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._outages = 0
        """Failed attempts to reach Redis since it last answered."""
        self._backoff = EqualJitterBackoff(cap=max_pause, base=0.25)

    async def run(self) -> None:
        """Handles what this consumer left pending, then new events, re-claiming stalled ones.

        Runs until cancelled: when Redis goes away (a restart, a network cut) it waits, with
        growing pauses, until Redis answers again, then carries on where the group left off."""
        while True:
            try:
                await self._consume()
            except RedisError as error:
                self._outages += 1
                delay = self._backoff.compute(self._outages)
                log.warning("the event stream is unreachable (%r); trying again in %.1f s", error, delay)
                await asyncio.sleep(delay)

    async def _consume(self) -> None:
        await asyncio.to_thread(self._create_group)  # again after a Redis that lost its data
        await self._drain_own_pending()
        loop = asyncio.get_running_loop()
        next_claim = loop.time() + self._retry_after_ms / 1000
        while True:
            entries = await asyncio.to_thread(self._read, ">")
            self._outages = 0
            for entry in entries:
                self._dispatch(*entry)
            if loop.time() >= next_claim:
                for entry in await asyncio.to_thread(self._claim_stalled):
                    self._dispatch(*entry)
                next_claim = loop.time() + self._retry_after_ms / 1000

    async def idle(self) -> None:
        """Waits until every dispatched event has been handled (for an orderly stop)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _create_group(self) -> None:
        try:
            self._redis.xgroup_create(keys.EVENTS_STREAM, keys.EVENTS_GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _drain_own_pending(self) -> None:
        after = "0"
        while entries := await asyncio.to_thread(self._read, after, block=False):
            for entry in entries:
                self._dispatch(*entry)
            after = entries[-1][0]

    def _read(self, after: str, *, block: bool = True) -> list[tuple[str, dict]]:
        batches = self._redis.xreadgroup(
            keys.EVENTS_GROUP,
            self._consumer,
            {keys.EVENTS_STREAM: after},
            count=100,
            block=self._block_ms if block else None,
        )
        return [(_text(entry_id), fields) for entry_id, fields in batches[0][1]] if batches else []

    def _claim_stalled(self) -> list[tuple[str, dict]]:
        """Events pending longer than the retry delay, from this consumer or one that is gone."""
        _, entries, deleted = self._redis.xautoclaim(
            keys.EVENTS_STREAM, keys.EVENTS_GROUP, self._consumer, self._retry_after_ms, count=100
        )
        if deleted:
            self._redis.xack(keys.EVENTS_STREAM, keys.EVENTS_GROUP, *deleted)
        return [(_text(entry_id), fields) for entry_id, fields in entries if fields]

    def _dispatch(self, entry_id: str, fields: dict) -> None:
        if entry_id in self._in_flight:
            return
        try:
            event = EVENT.validate_json(fields[b"event"])
        except (KeyError, ValidationError):
            log.error("dropping malformed event %s", entry_id)
            self._redis.xack(keys.EVENTS_STREAM, keys.EVENTS_GROUP, entry_id)
            return
        lane = self._lanes.setdefault(event.job_id, Lane())
        lane._add()
        self._in_flight.add(entry_id)
        task = asyncio.create_task(self._process(entry_id, event, lane))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, entry_id: str, event: Event, lane: Lane) -> None:
        try:
            async with lane.lock:
                lane.waiting -= 1
                try:
                    await self._handle(event, lane)
                except Exception as error:
                    if transient(error):
                        log.warning(
                            "job %s: %s %s failed (%r); retrying later",
                            event.job_id,
                            event.kind,
                            entry_id,
                            error,
                        )
                        return
                    log.exception("job %s: could not show %s %s", event.job_id, event.kind, entry_id)
                try:
                    await asyncio.to_thread(self._redis.xack, keys.EVENTS_STREAM, keys.EVENTS_GROUP, entry_id)
                except RedisError as error:  # shown again once claimed: each step is idempotent
                    log.warning("job %s: could not acknowledge %s (%r)", event.job_id, entry_id, error)
        finally:
            self._in_flight.discard(entry_id)
            if lane.waiting == 0 and not lane.lock.locked() and self._lanes.get(event.job_id) is lane:
                del self._lanes[event.job_id]


def transient(error: BaseException) -> bool:
    """Whether another try later may succeed: a network or Redis failure, a Discord server error,
    or a rate limit discord.py gave up waiting out (it raises the 429 after five tries)."""
    rate_limited = isinstance(error, discord.HTTPException) and error.status == 429
    return rate_limited or isinstance(error, TRANSIENT)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
