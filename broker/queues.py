"""Putting jobs on the per-model RQ queues, as JSON and by dotted path."""

from redis import Redis
from rq import Queue, Retry
from rq.rate_limit import RateLimit, RateLimitRegistry
from rq.serializers import JSONSerializer

from broker.events import EventLog
from broker.fairness import LANE_META, TurnTaker
from broker.settings import BrokerSettings
from jobs import keys
from jobs.errors import MemberError
from jobs.events import Queued
from jobs.lanes import Lane
from jobs.specs import JOB_SPEC, DescribeSpec, JobSpec, Operation

TASKS: dict[Operation, str] = {op: f"worker.tasks.{op.value}" for op in Operation}
"""The functions a worker runs for each operation: also its allow-list."""


class UnknownJobError(MemberError, LookupError):
    """No job with that id is known (never submitted, or its record has expired)."""

    @property
    def reply(self) -> str:
        return "This job is too old: its settings are no longer kept. Run /imagine again."


def lane_of(spec: JobSpec) -> Lane:
    """The lane a job waits in; a `/describe`, which has none, waits in the fast one."""
    return Lane.FAST if isinstance(spec, DescribeSpec) else spec.lane


def model_queue(redis: Redis, model: str) -> Queue:
    return Queue(keys.queue_name(model), connection=redis, serializer=JSONSerializer)


class JobSubmitter:
    """Enqueues specs, records them for follow-ups, and announces their queue position.

    Jobs of one requester run at most `concurrency` at once (RQ's RateLimit holds back the rest)
    and take turns with other requesters' jobs in the queue, after the jobs of earlier lanes
    (`broker.fairness`).
    """

    def __init__(self, redis: Redis, settings: BrokerSettings, events: EventLog) -> None:
        self._redis = redis
        self._settings = settings
        self._events = events
        self._turns = TurnTaker(redis)

    def submit(self, spec: JobSpec, *, concurrency: int | None = None) -> Queued:
        """Enqueues `spec` on its model's queue; at most `concurrency` jobs per requester at once."""
        queue = model_queue(self._redis, spec.model)
        rate_limit = None
        if concurrency is not None and spec.requested_by:
            rate_limit = RateLimit(keys.member_limit_key(spec.requested_by), concurrency)
        self._redis.set(keys.spec_key(spec.job_id), spec.model_dump_json(), ex=self._settings.spec_ttl)
        queue.enqueue_call(
            TASKS[spec.op],
            kwargs={"spec": spec.model_dump(mode="json")},
            job_id=spec.job_id,
            timeout=self._settings.job_timeout,
            result_ttl=self._settings.artifact_ttl,
            failure_ttl=self._settings.artifact_ttl,
            retry=Retry(max=self._settings.job_retries) if self._settings.job_retries else None,
            rate_limit=rate_limit,
            description=f"{spec.op.value} {spec.job_id}",
            meta={LANE_META: lane_of(spec).value},  # read by `broker.fairness`, inside Redis
        )
        place = self._turns.take_turn(queue, spec.job_id)
        if place is None and rate_limit is not None:
            held = RateLimitRegistry(rate_limit.key, connection=self._redis)
            if self._redis.zscore(held.rate_limited_key, spec.job_id) is not None:
                # Held back until one of the member's jobs ends; it is the newest held back.
                place = queue.count + held.get_rate_limited_job_count() - 1
        queued = Queued(job_id=spec.job_id, position=(place or 0) + 1)
        self._events.publish(queued)
        return queued

    def spec(self, job_id: str) -> JobSpec:
        """The spec a job was submitted with, for upscale, vary and reroll."""
        raw = self._redis.get(keys.spec_key(job_id))
        if raw is None:
            raise UnknownJobError(f"job {job_id} is unknown or has expired")
        return JOB_SPEC.validate_json(raw)
