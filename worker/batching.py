"""Jobs that share one pipeline call: the queued jobs right behind the one a worker took, while
they match it in model, size, steps, sampler, guidance and tiling (`IMAGINE_BATCH_JOBS` in all).

The worker claims them from the head of its queue (so no job overtakes another), registers each
as started in RQ at once (a worker that dies mid-batch loses none: RQ retries them), and then runs
them one after another as usual. The first to run renders every member's images in one call; the
others find theirs ready. Results, retries and failures stay per job.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeGuard

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from broker.queues import TASKS
from jobs.specs import JOB_SPEC, ImagineSpec, JobSpec, Operation, RerollSpec
from worker.engine import Render, shared_call_key

TextSpec = ImagineSpec | RerollSpec

_SHAREABLE = frozenset({TASKS[Operation.IMAGINE], TASKS[Operation.REROLL]})

# KEYS: the queue, its intermediate list. ARGV: the job id expected at the head, whether RQ's
# intermediate list is in use. Pops the head only if it is still that job.
_TAKE_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return 0 end
redis.call('LPOP', KEYS[1])
if ARGV[2] == '1' then redis.call('RPUSH', KEYS[2], ARGV[1]) end
return 1
"""


@dataclass(frozen=True)
class Member:
    job: Job
    spec: TextSpec


@dataclass(frozen=True)
class Rendered:
    render: Render
    began: float
    """`time.monotonic()` when the job started, for its `Done.seconds`."""


@dataclass
class Batch:
    """Claimed jobs, first taken first, whose images come from one pipeline call."""

    members: list[Member]
    shared: bool = False
    """The shared call was made (or tried): members without a render make their own."""
    started: set[str] = field(default_factory=set)
    """Members whose start the shared call announced already."""
    _rendered: dict[str, Rendered] = field(default_factory=dict)

    def riders(self, job_id: str) -> list[Member]:
        """The members that join `job_id`'s call: those after it (still to run), unless the shared
        call was made already."""
        ids = [member.job.id for member in self.members]
        if self.shared or job_id not in ids:
            return []
        return self.members[ids.index(job_id) + 1 :]

    def keep(self, job_id: str, rendered: Rendered) -> None:
        self._rendered[job_id] = rendered

    def take(self, job_id: str) -> Rendered | None:
        """The images the shared call made for `job_id`, once; None if it made none."""
        return self._rendered.pop(job_id, None)


def shareable_spec(job: Job) -> TextSpec | None:
    """The spec of an imagine or reroll job that could share a call (`shareable`); None for any other."""
    try:
        if job.func_name not in _SHAREABLE or job.args or set(job.kwargs) != {"spec"}:
            return None
        spec = JOB_SPEC.validate_python(job.kwargs["spec"])
    except (ValueError, TypeError, KeyError):  # invalid specs included: left for the job's own run to report
        return None
    return spec if shareable(spec) else None


def shareable(spec: JobSpec) -> TypeGuard[TextSpec]:
    """Whether `spec` is text alone: an imagine or reroll job without images, whose call others can share."""
    return isinstance(spec, TextSpec) and not (spec.images or spec.style_images)


class BatchClaimer:
    """Takes, for a job just dequeued, the queued jobs that can share its pipeline call."""

    def __init__(self, redis: Redis, size: int, job_class: type[Job]) -> None:
        self._redis = redis
        self._size = size
        self._job_class = job_class
        self._take_head = redis.register_script(_TAKE_HEAD)

    def claim(self, leader: Job, queue: Queue, *, intermediate: bool) -> Batch | None:
        """A batch of `leader` and up to `size - 1` jobs from the head of `queue`; None when no job
        can join. With `intermediate`, each claimed job goes onto RQ's intermediate list, as RQ's
        own dequeue puts it there, until the caller has registered it as started."""
        spec = shareable_spec(leader) if self._size > 1 else None
        if spec is None:
            return None
        key = shared_call_key(spec.generation)
        members = [Member(leader, spec)]
        while len(members) < self._size:
            head = self._redis.lindex(queue.key, 0)
            if head is None:
                break
            try:
                job = self._job_class.fetch(head.decode(), connection=self._redis, serializer=JSONSerializer)
            except NoSuchJobError:
                break
            joining = shareable_spec(job)
            if joining is None or shared_call_key(joining.generation) != key:
                break
            lists = [queue.key, queue.intermediate_queue_key]
            if not self._take_head(keys=lists, args=[job.id, int(intermediate)]):
                break  # another worker took it first
            members.append(Member(job, joining))
        return Batch(members) if len(members) > 1 else None


_current: Batch | None = None


@contextmanager
def sharing(batch: Batch | None) -> Iterator[None]:
    """Makes `batch` the one the job functions see while its members run."""
    global _current
    _current = batch
    try:
        yield
    finally:
        _current = None


def current() -> Batch | None:
    return _current
