"""What the queues hold, what the workers do, where each job is and which jobs failed, read from
RQ's own records: the one reader of queue and worker status.

For `/info`, `imagine status`, the members' waiting limit and the queue-depth metrics. Everything
here only reads: counts are plain Redis reads rather than RQ's own `count`s, which clean registries
up as they go (and re-queue the jobs of dead workers), and workers are read without `Worker.all`,
which forgets expired ones. Looking must not change what is looked at.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.defaults import RQ_KEY_PREFIX
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.rate_limit import RateLimitRegistry
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from broker.events import failure_reasons
from broker.queues import TASKS, model_queue
from jobs import keys

FAILURE_REASON = "failure_reason"
"""The job meta field where the worker keeps the reason its `failed` event gave."""

_TASK_OPERATIONS = {path: op.value for op, path in TASKS.items()}

# KEYS: RQ's set of rate-limit keys. ARGV: the rate-limit key prefix, the job hash prefix.
# Returns origin, count, origin, count, … for the jobs the members' running limits hold back.
_HELD_BACK = """
local counts = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    for _, id in ipairs(redis.call('ZRANGE', ARGV[1] .. key .. ':rate_limited', 0, -1)) do
        local fields = redis.call('HMGET', ARGV[2] .. id, 'origin', 'status')
        if fields[1] and fields[2] == 'rate_limited' then
            counts[fields[1]] = (counts[fields[1]] or 0) + 1
        end
    end
end
local flat = {}
for origin, count in pairs(counts) do
    flat[#flat + 1] = origin
    flat[#flat + 1] = count
end
return flat
"""


class UnknownFailedJobError(LookupError):
    """No failed job has that id (or starts with it)."""


@dataclass(frozen=True)
class QueueDepth:
    model: str
    waiting: int
    """In the queue, next for a worker."""
    running: int
    """Taken by a worker whose heartbeat is current."""
    held: int
    """Held back by their member's running limit (RQ's rate limit) until one of theirs ends."""
    failed: int
    """In the failed-job registry, waiting to be requeued or dropped (or to expire)."""


@dataclass(frozen=True)
class WorkerView:
    name: str
    host: str | None
    pid: int | None
    state: str
    models: tuple[str, ...]
    last_heartbeat: datetime | None
    job_id: str | None
    operation: str | None
    model: str | None
    job_started: datetime | None
    jobs_done: int
    jobs_failed: int


@dataclass(frozen=True)
class FailedJob:
    job_id: str
    model: str
    operation: str
    requested_by: str | None
    failed_at: datetime | None
    attempts: int
    reason: str


def model_of(queue_name: str) -> str:
    return queue_name.removeprefix(keys.queue_name(""))


def operation_of(job: Job) -> str:
    """`imagine`, `upscale`…; the dotted path of anything else; `?` when unreadable."""
    try:
        name = job.func_name
    except Exception:  # job data that does not decode: the worker has failed it already
        return "?"
    return _TASK_OPERATIONS.get(name, name or "?")


def models(redis: Redis, also: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Models that have a queue (one is made by the first job for it), and those in `also`."""
    prefix = keys.queue_name("")
    named = {queue.name for queue in Queue.all(connection=redis) if queue.name.startswith(prefix)}
    return sorted({model_of(name) for name in named} | set(also))


def queue_depths(redis: Redis, also: tuple[str, ...] | list[str] = ()) -> list[QueueDepth]:
    """Each model's queue (see `models`), counted in three round trips."""
    names = models(redis, also)
    held = _held_back(redis)
    now = time.time()
    with redis.pipeline(transaction=False) as pipe:
        for name in names:
            queue = model_queue(redis, name)
            pipe.llen(queue.key)
            pipe.zcount(StartedJobRegistry(queue=queue).key, now, "+inf")
            pipe.zcount(FailedJobRegistry(queue=queue).key, now, "+inf")
        counts = pipe.execute()
    depths = []
    for i, name in enumerate(names):
        waiting, running, failed = counts[3 * i : 3 * i + 3]
        depths.append(QueueDepth(name, waiting, running, held.get(keys.queue_name(name), 0), failed))
    return depths


def _held_back(redis: Redis) -> dict[str, int]:
    flat = redis.register_script(_HELD_BACK)(
        keys=[RateLimitRegistry.rl_keys_key], args=[f"{RQ_KEY_PREFIX}:rl:", Job.redis_job_namespace_prefix]
    )
    return {_text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def workers(redis: Redis) -> list[WorkerView]:
    """Every worker registered with RQ, and the job each is on."""
    found = []
    for worker in _registered_workers(redis):
        job = _current_job(worker)
        found.append(
            WorkerView(
                name=worker.name,
                host=worker.hostname,
                pid=worker.pid,
                state=worker.get_state(),
                models=_models_of(worker),
                last_heartbeat=worker.last_heartbeat,
                job_id=job.id if job else None,
                operation=operation_of(job) if job else None,
                model=model_of(job.origin) if job else None,
                job_started=job.started_at if job else None,
                jobs_done=worker.successful_job_count,
                jobs_failed=worker.failed_job_count,
            )
        )
    return found


def serving(redis: Redis, models: list[str]) -> bool:
    """Whether a registered worker serves each of `models`."""
    served = {model for worker in _registered_workers(redis) for model in _models_of(worker)}
    return served.issuperset(models)


def _models_of(worker: Worker) -> tuple[str, ...]:
    return tuple(model_of(queue.name) for queue in worker.queues)


def _registered_workers(redis: Redis) -> list[Worker]:
    """RQ's registered workers by name, as `Worker.all` finds them, minus its clean-up."""
    prefix = Worker.redis_worker_namespace_prefix
    names = sorted(_text(key).removeprefix(prefix) for key in redis.smembers(Worker.redis_workers_keys))
    found = []
    for name in names:
        worker = Worker([], name, connection=redis, prepare_for_work=False, serializer=JSONSerializer)
        if redis.exists(worker.key):  # else it expired: `Worker.all` would remove it from the set
            worker.refresh()
            found.append(worker)
    return found


WAITING = frozenset({JobStatus.QUEUED, JobStatus.RATE_LIMITED, JobStatus.DEFERRED, JobStatus.SCHEDULED})
"""The statuses of a job not yet started."""


def waiting(redis: Redis, job_ids: list[str]) -> int:
    """How many of these jobs have not started yet."""
    return sum(1 for status in statuses(redis, job_ids).values() if status in WAITING)


def statuses(redis: Redis, job_ids: list[str]) -> dict[str, JobStatus]:
    """The status of each of these jobs that RQ still has a record of."""
    jobs = Job.fetch_many(job_ids, connection=redis, serializer=JSONSerializer)
    return {job.id: job.get_status(refresh=False) for job in jobs if job is not None}


def _current_job(worker: Worker) -> Job | None:
    try:
        return worker.get_current_job()
    except NoSuchJobError:  # it ended between the two reads
        return None


def failed_jobs(redis: Redis, also: tuple[str, ...] | list[str] = ()) -> list[FailedJob]:
    """Failed jobs, oldest first, with the reason the worker gave (else the exception's last line)."""
    located = failed_ids(redis, also)
    fetched = Job.fetch_many([job_id for _, job_id in located], connection=redis, serializer=JSONSerializer)
    jobs = [(name, job) for (name, _), job in zip(located, fetched, strict=True) if job is not None]
    unexplained = [job.id for _, job in jobs if not job.meta.get(FAILURE_REASON)]
    announced = failure_reasons(redis, unexplained) if unexplained else {}
    failed = [
        FailedJob(
            job_id=job.id,
            model=name,
            operation=operation_of(job),
            requested_by=_requester(job),
            failed_at=job.ended_at,
            attempts=int(job.meta.get("attempts", 0)),
            reason=job.meta.get(FAILURE_REASON) or announced.get(job.id) or _exception_line(job),
        )
        for name, job in jobs
    ]
    return sorted(failed, key=lambda job: job.failed_at or datetime.min.replace(tzinfo=UTC))


def failed_ids(redis: Redis, also: tuple[str, ...] | list[str] = ()) -> list[tuple[str, str]]:
    """(model, job id) of each failed job that has not expired."""
    now = time.time()
    return [
        (name, _text(job_id))
        for name in models(redis, also)
        for job_id in redis.zrangebyscore(FailedJobRegistry(queue=model_queue(redis, name)).key, now, "+inf")
    ]


def _requester(job: Job) -> str | None:
    try:
        spec: Any = job.kwargs.get("spec")
    except Exception:
        return None
    return spec.get("requested_by") if isinstance(spec, dict) else None


def _exception_line(job: Job) -> str:
    result = job.latest_result()
    lines = [line for line in (result.exc_string or "").splitlines() if line.strip()] if result else []
    return lines[-1].strip() if lines else "no reason was recorded"


def find_failed(redis: Redis, wanted: str) -> tuple[str, str]:
    """(model, job id) of the failed job whose id is, or uniquely starts with, `wanted`."""
    matches = [(name, job_id) for name, job_id in failed_ids(redis) if job_id.startswith(wanted)]
    exact = [match for match in matches if match[1] == wanted]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    if not matches:
        raise UnknownFailedJobError(f"no failed job {wanted}")
    raise UnknownFailedJobError(f"{len(matches)} failed jobs start with {wanted}: give more of the id")


def requeue(redis: Redis, model: str, job_id: str) -> None:
    """Puts a failed job back at the end of its queue (RQ's own requeue, rate limit included)."""
    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    job.meta.pop(FAILURE_REASON, None)
    job.save_meta()
    FailedJobRegistry(queue=model_queue(redis, model)).requeue(job)


def drop(redis: Redis, model: str, job_id: str) -> None:
    """Deletes a failed job and its record (its spec stays, for the bot's Retry button)."""
    try:
        Job.fetch(job_id, connection=redis, serializer=JSONSerializer).delete()
    except NoSuchJobError:  # its record expired first: only the registry entry is left
        FailedJobRegistry(queue=model_queue(redis, model)).remove(job_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
