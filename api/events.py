"""One reader of the event stream per API process, handing each job's events to whoever follows it.

Followers first get the job's events already in the stream after the id they start from (a job's
first read, or `Last-Event-ID` on a resumed Server-Sent Events stream), then the new ones live."""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobs import keys
from jobs.events import EVENT, Done, Event, Failed

log = logging.getLogger(__name__)

Entry = tuple[str, Event]
"""A stream id and the event stored there."""


def _order(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def is_final(event: Event) -> bool:
    return isinstance(event, Done | Failed)


class EventHub:
    def __init__(self, redis: Redis, *, block_ms: int = 1000) -> None:
        self._redis = redis
        self._block_ms = block_ms
        self._followers: dict[str, set[asyncio.Queue[Entry]]] = defaultdict(set)
        self._started = asyncio.Event()

    async def run(self) -> None:
        """Reads the stream from its newest entry on, until cancelled."""
        newest = await self._redis.xrevrange(keys.EVENTS_STREAM, count=1)
        last = newest[0][0].decode() if newest else "0-0"
        self._started.set()
        while True:
            try:
                batches = await self._redis.xread({keys.EVENTS_STREAM: last}, block=self._block_ms, count=500)
            except (RedisError, OSError) as error:
                log.warning("reading the event stream failed (%s); trying again", error)
                await asyncio.sleep(1)
                continue
            for entry_id, fields in batches[0][1] if batches else ():
                last = entry_id.decode()
                followers = self._followers.get(fields.get(b"job", b"").decode())
                if followers:
                    entry = (last, EVENT.validate_json(fields[b"event"]))
                    for queue in followers:
                        queue.put_nowait(entry)

    async def follow(self, job_id: str, after: str) -> AsyncIterator[Entry]:
        """The job's events after stream id `after`, in order, ending with its `done` or `failed`."""
        await self._started.wait()
        queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._followers[job_id].add(queue)
        try:
            seen = after
            async for entry in self.stored(job_id, after):
                seen = entry[0]
                yield entry
                if is_final(entry[1]):
                    return
            while True:
                entry = await queue.get()
                if _order(entry[0]) <= _order(seen):
                    continue  # read already from the stored ones
                seen = entry[0]
                yield entry
                if is_final(entry[1]):
                    return
        finally:
            self._followers[job_id].discard(queue)
            if not self._followers[job_id]:
                with contextlib.suppress(KeyError):
                    del self._followers[job_id]

    async def stored(self, job_id: str, after: str) -> AsyncIterator[Entry]:
        """The job's events already in the stream after `after`."""
        start = f"({after}"
        while True:
            batch = await self._redis.xrange(keys.EVENTS_STREAM, min=start, max="+", count=1000)
            for entry_id, fields in batch:
                if fields.get(b"job", b"").decode() == job_id:
                    yield entry_id.decode(), EVENT.validate_json(fields[b"event"])
            if len(batch) < 1000:
                return
            start = f"({batch[-1][0].decode()}"
