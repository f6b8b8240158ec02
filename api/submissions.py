"""Jobs an API key asks for: held to the key's limits, recorded against the key, queued through the
same submitter as the bot's (so they take turns with Discord members), and found again by id."""

import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import UploadFile
from pydantic import BaseModel
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from api.errors import ApiError
from api.keys import ApiKey
from broker import monitor
from broker.events import EventLog
from broker.queues import JobSubmitter, model_queue
from broker.windows import HourlyWindows
from jobs import keys
from jobs.events import Failed
from jobs.lanes import Lane
from jobs.resolve import ResolveError, as_fast, within_limits
from jobs.specs import DescribeSpec, JobSpec, Safety
from models.catalog import Catalog

log = logging.getLogger(__name__)

# KEYS: the key's open jobs (a sorted set by when they were asked). ARGV: now, how long a job is
# kept, how long a job asked but not yet in RQ counts as waiting, the limit, RQ's job key prefix, the
# statuses of a job not yet started (comma-separated), then the new job ids. Drops the jobs that
# have started or ended, and adds the new ones if they fit: {1, waiting} if they did, {0, waiting}
# if not. One step, so concurrent requests cannot both take the last place.
_RESERVE_WAITING = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local open = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local statuses = ',' .. ARGV[6] .. ','
local waiting = 0
for i = 1, #open, 2 do
    local status = redis.call('HGET', ARGV[5] .. open[i], 'status')
    if status == false and tonumber(open[i + 1]) > now - tonumber(ARGV[3]) then
        waiting = waiting + 1
    elseif status and string.find(statuses, ',' .. status .. ',', 1, true) then
        waiting = waiting + 1
    else
        redis.call('ZREM', KEYS[1], open[i])
    end
end
if waiting + #ARGV - 6 > tonumber(ARGV[4]) then
    return {0, waiting}
end
for i = 7, #ARGV do
    redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {1, waiting}
"""
_ENQUEUING = 60
"""Seconds a job asked for counts as waiting before RQ has a record of it."""
_NOT_STARTED = ",".join(
    sorted(s.value for s in {*monitor.WAITING, JobStatus.CREATED, JobStatus.READY_TO_ENQUEUE})
)

CANCELLED = "cancelled by the API client before it started"
"""The `failed` reason of a cancelled job."""
IDEMPOTENCY_TTL = 24 * 3600
"""How long an `Idempotency-Key` keeps answering with its first job."""


class JobRecord(BaseModel):
    """What the API keeps of a job it queued."""

    job_id: str
    key_id: str
    op: str
    after: str
    """The event stream's newest id just before the job was queued: its events all come after."""
    created: float
    webhook: str | None = None
    """Where its `done` or `failed` is POSTed (see `api.webhooks`)."""
    base: str | None = None
    """The API's public address when it was asked, for the links a webhook carries."""


@dataclass(frozen=True)
class Asked:
    """A request as its `Idempotency-Key` is scoped: the endpoint, and a digest of what it asked."""

    endpoint: str
    digest: str

    @classmethod
    def of(cls, endpoint: str, body: BaseModel, files: Sequence[bytes] = ()) -> "Asked":
        """`body`'s fields (files left out) and the `files`' bytes, digested."""
        fields = {name: value for name, value in body if not _carries_files(value)}
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
        for data in files:
            digest.update(hashlib.sha256(data).digest())
        return cls(endpoint, digest.hexdigest())


def _carries_files(value: object) -> bool:
    return isinstance(value, UploadFile) or (isinstance(value, list) and any(map(_carries_files, value)))


class Submissions:
    def __init__(
        self,
        redis: Redis,
        events: EventLog,
        catalog: Catalog,
        submitter: JobSubmitter,
        *,
        safety: Safety,
        ttl: int,
    ) -> None:
        self._redis = redis
        self._events = events
        self._submitter = submitter
        self._catalog = catalog
        self._safety = safety
        self._ttl = ttl
        self._windows = HourlyWindows(redis)
        self._reserve_waiting = redis.register_script(_RESERVE_WAITING)

    def shape(self, key: ApiKey, spec: JobSpec) -> JobSpec:
        """`spec` as `key` may have it: an allowed model, within its largest side and steps (lowered
        with a note for a new grid, refused for an upscale), `--turbo` run as `--fast` (with a
        note), and the API's NSFW policy."""
        limits = key.limits
        if limits.models and spec.model not in limits.models:
            allowed = ", ".join(limits.models)
            raise ApiError(400, f"this key may use the models {allowed}, not {spec.model}", param="model")
        if isinstance(spec, DescribeSpec):
            return spec.model_copy(update={"safety": self._safety})
        try:
            limited = within_limits(
                spec,
                max_side=limits.max_side,
                max_steps=limits.max_steps,
                size_multiple=self._catalog.get(spec.model).profile().size_multiple,
            )
        except ResolveError as error:
            raise ApiError(400, error.reply, param="prompt") from None
        if limited.lane is Lane.TURBO:
            limited = as_fast(limited, "`--turbo` ran as `--fast`: API keys have no turbo allowance")
        return limited.model_copy(update={"safety": self._safety})

    def submit(
        self,
        key: ApiKey,
        specs: list[JobSpec],
        idempotency: str | None = None,
        *,
        asked: Asked | None = None,
        webhook: str | None = None,
        base: str | None = None,
    ) -> list[JobRecord]:
        """Queues `specs` for `key`, or answers 429 when they don't fit its limits. With an
        `idempotency` key that `key` already used for the same request (`asked`: the endpoint and
        what it asked), the jobs it made the first time, queued once; for another request, 409.
        A `webhook` (checked) is told of each job's end, with links under `base`."""
        asked = asked or Asked(endpoint="", digest="")
        idem = None
        if idempotency:
            idem = keys.api_idempotency_key(key.id, _hashed(f"{asked.endpoint}\n{idempotency}"))
            if (first := self._first(idem, asked.digest)) is not None:
                return first
        job_ids = [spec.job_id for spec in specs]
        self._reserve(key, job_ids)
        retry_at = self._windows.take(keys.api_hourly_key(key.id), job_ids, key.limits.hourly)
        if retry_at is not None:
            self._redis.zrem(keys.api_open_key(key.id), *job_ids)
            raise _too_many(f"this key's hourly limit is {key.limits.hourly} jobs", retry_at - time.time())
        remembered = " ".join([asked.digest or "-", *job_ids])
        if idem is not None and not self._redis.set(idem, remembered, nx=True, ex=IDEMPOTENCY_TTL):
            self._windows.give_back(keys.api_hourly_key(key.id), job_ids)
            self._redis.zrem(keys.api_open_key(key.id), *job_ids)
            raise ApiError(  # another request with that key got there a moment ago
                409, "a request with this Idempotency-Key is being queued: try again", param="Idempotency-Key"
            )
        after = self._events.latest_id()
        records = []
        for spec in specs:
            record = JobRecord(
                job_id=spec.job_id,
                key_id=key.id,
                op=spec.op.value,
                after=after,
                created=time.time(),
                webhook=webhook,
                base=base,
            )
            self._redis.set(keys.api_job_key(spec.job_id), record.model_dump_json(), ex=self._ttl)
            self._submitter.submit(spec, concurrency=key.limits.running)
            log.info("job %s (%s) queued for key %s", spec.job_id, spec.op.value, key.id)
            records.append(record)
        return records

    def record(self, key: ApiKey, job_id: str) -> JobRecord:
        """The job `key` submitted (404 for any other key's, as for one that does not exist)."""
        raw = self._redis.get(keys.api_job_key(job_id)) if job_id.isalnum() else None
        record = None if raw is None else JobRecord.model_validate_json(raw)
        if record is None or record.key_id != key.id:
            raise ApiError(404, f"there is no job {job_id} for this key", type="not_found_error", param="id")
        return record

    def spec(self, key: ApiKey, job_id: str) -> JobSpec:
        """The spec of a job `key` submitted, for its follow-ups."""
        self.record(key, job_id)
        return self._submitter.spec(job_id)

    def spec_of(self, job_id: str) -> JobSpec:
        return self._submitter.spec(job_id)

    def cancel(self, record: JobRecord) -> bool:
        """Takes the job out of its queue if no worker has taken it yet, and announces it failed."""
        spec = self._submitter.spec(record.job_id)
        queue = model_queue(self._redis, spec.model)
        if not self._redis.lrem(queue.key, 0, record.job_id):
            return False  # started, ended, or held back by the key's running limit
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(record.job_id, connection=self._redis, serializer=JSONSerializer).cancel()
        self._events.publish(Failed(job_id=record.job_id, reason=CANCELLED))
        log.info("job %s cancelled by key %s", record.job_id, record.key_id)
        return True

    def position(self, spec_model: str, job_id: str) -> int | None:
        """1 when the job starts next; None when it is not waiting in its queue."""
        place = self._redis.lpos(model_queue(self._redis, spec_model).key, job_id)
        return None if place is None else place + 1

    def _first(self, idem: str, digest: str) -> list[JobRecord] | None:
        """The jobs an earlier request with this idempotency key made; None when there was none, or
        their records are no longer kept (or not written yet: that request is still queueing); 409
        when it asked for something else."""
        raw = self._redis.get(idem)
        first_digest, *job_ids = raw.decode().split() if raw else ["-"]
        if raw and first_digest != (digest or "-"):
            raise ApiError(
                409,
                "this Idempotency-Key was used for another request: use a new key for a new request",
                param="Idempotency-Key",
                code="idempotency_key_reused",
            )
        records = self._redis.mget([keys.api_job_key(job_id) for job_id in job_ids]) if job_ids else []
        if not records or None in records:
            return None
        return [JobRecord.model_validate_json(record) for record in records]

    def _reserve(self, key: ApiKey, job_ids: list[str]) -> None:
        """Counts `job_ids` among the key's waiting jobs, or answers 429 when they don't fit."""
        fits, waiting = self._reserve_waiting(
            keys=[keys.api_open_key(key.id)],
            args=[
                time.time(),
                self._ttl,
                _ENQUEUING,
                key.limits.waiting,
                Job.redis_job_namespace_prefix,
                _NOT_STARTED,
                *job_ids,
            ],
        )
        if not fits:
            raise _too_many(f"this key may have {key.limits.waiting} jobs waiting; {waiting} are", 10)


def _hashed(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _too_many(message: str, seconds: float) -> ApiError:
    wait = max(1, math.ceil(seconds))
    return ApiError(
        429,
        f"{message}: try again in {wait} s",
        type="rate_limit_error",
        code="rate_limit_exceeded",
        headers={"Retry-After": str(wait)},
    )
