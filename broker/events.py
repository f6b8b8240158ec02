"""The event stream: workers and enqueuers append, the bot and the command line read."""

from collections.abc import Iterable, Iterator

from pydantic import ValidationError
from redis import Redis

from broker.settings import BrokerSettings
from jobs import keys
from jobs.events import EVENT, Done, Event, Failed

# Set the job's done marker and append its event in one step, so a job that is retried after its
# worker died between the two can never announce twice, nor lose the announcement.
_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'job', ARGV[3], 'event', ARGV[4])
end
return false
"""


class EventLog:
    """Appends job events to one Redis Stream and reads them back in order."""

    def __init__(self, redis: Redis, *, maxlen: int, marker_ttl: int) -> None:
        self._redis = redis
        self._maxlen = maxlen
        self._marker_ttl = marker_ttl
        self._publish_once = redis.register_script(_PUBLISH_ONCE)

    @classmethod
    def for_settings(cls, redis: Redis, settings: BrokerSettings) -> "EventLog":
        """The stream trimmed as configured, with done markers kept as long as the artifacts."""
        return cls(redis, maxlen=settings.events_maxlen, marker_ttl=settings.artifact_ttl)

    def publish(self, event: Event) -> str:
        """Appends `event`; returns its stream id."""
        entry_id = self._redis.xadd(
            keys.EVENTS_STREAM,
            {"job": event.job_id, "event": event.model_dump_json()},
            maxlen=self._maxlen,
            approximate=True,
        )
        return _text(entry_id)

    def publish_done(self, event: Done) -> str | None:
        """Appends a `done` event unless this job already announced one; returns its id or None."""
        entry_id = self._publish_once(
            keys=[keys.done_key(event.job_id), keys.EVENTS_STREAM],
            args=[self._marker_ttl, self._maxlen, event.job_id, event.model_dump_json()],
        )
        return _text(entry_id) if entry_id else None

    def is_done(self, job_id: str) -> bool:
        return bool(self._redis.exists(keys.done_key(job_id)))

    def latest_id(self) -> str:
        """The id of the newest entry ("0-0" when empty): read after it to see only new events."""
        newest = self._redis.xrevrange(keys.EVENTS_STREAM, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    def follow(self, after: str, *, block_ms: int = 1000) -> Iterator[tuple[str, Event] | None]:
        """Yields events after stream id `after` as they arrive, and None after each idle wait."""
        last = after
        while True:
            batches = self._redis.xread({keys.EVENTS_STREAM: last}, block=block_ms, count=100)
            if not batches:
                yield None
                continue
            for entry_id, fields in batches[0][1]:
                last = _text(entry_id)
                yield last, EVENT.validate_json(fields[b"event"])


def failure_reasons(redis: Redis, job_ids: Iterable[str], *, scan: int = 10_000) -> dict[str, str]:
    """The reason each of `job_ids` last failed with, as far as the newest `scan` events tell."""
    wanted, found = set(job_ids), {}
    newest, read = "+", 0
    while wanted - found.keys() and read < scan:
        batch = redis.xrevrange(keys.EVENTS_STREAM, max=newest, count=min(1000, scan - read))
        if not batch:
            break
        for _, fields in batch:
            job_id = _text(fields.get(b"job", b""))
            if job_id in wanted and job_id not in found:
                try:
                    event = EVENT.validate_json(fields[b"event"])
                except (KeyError, ValidationError):
                    continue
                if isinstance(event, Failed):
                    found[job_id] = event.reason
        read += len(batch)
        newest = f"({_text(batch[-1][0])}"
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
