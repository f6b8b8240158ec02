"""The RQ worker: no fork per job, an allow-list of functions, heartbeats while a job runs."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from redis import Redis
from redis.exceptions import ResponseError
from rq import Queue, SimpleWorker
from rq.exceptions import AbandonedJobError, NoSuchJobError, StopRequested
from rq.executions import Execution
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException
from rq.utils import now
from rq.worker import WorkerStatus

from broker.events import EventLog
from broker.logs import job_context
from broker.monitor import FAILURE_REASON
from broker.queues import TASKS
from jobs.events import Failed
from worker import outages, records
from worker.batching import BatchClaimer, sharing
from worker.errors import DamagedJobError, ForbiddenJobError, InvalidJobError, JobError
from worker.metrics import WorkerMetrics
from worker.queues import WorkerQueue

log = logging.getLogger(__name__)

ALLOWED_FUNCTIONS = frozenset(TASKS.values())


class AllowListedJob(Job):
    """A job that resolves only the worker's own task functions, and no callbacks at all.

    Redis is a trust boundary: a job hash names a dotted path that RQ would import and call, and
    any of its fields may be unreadable. Such a job still restores (`worker.records`), and fails
    with `damage` as its reason instead of stopping the worker that fetched it.
    """

    damage: tuple[str, ...] = ()
    """What in the job's record could not be read; empty for a sound record."""

    def restore(self, raw_data: Any) -> None:
        fields, damage = records.checked(raw_data)
        super().restore(fields)
        self.damage = tuple(damage)

    def refresh(self) -> None:
        try:
            super().refresh()
        except ResponseError as error:  # the key holds something other than a hash
            # Nothing can be written to it either, so RQ passes it by as it does a missing job.
            raise NoSuchJobError(f"{self.key} is not a job record") from error

    @property
    def func(self) -> Any:
        if self.damage:
            raise DamagedJobError(damaged_reason(self.damage))
        if self.func_name not in ALLOWED_FUNCTIONS:
            raise ForbiddenJobError(f"`{self.func_name}` is not a job this worker runs")
        if self.args or set(self.kwargs) != {"spec"}:
            raise InvalidJobError("the job's description is not valid (it must be one `spec` argument)")
        return super().func

    @property
    def success_callback(self) -> Any:
        return self._refuse_callback(self._success_callback_name)

    @property
    def failure_callback(self) -> Any:
        return self._refuse_callback(self._failure_callback_name)

    @property
    def stopped_callback(self) -> Any:
        return self._refuse_callback(self._stopped_callback_name)

    @staticmethod
    def _refuse_callback(name: str | None) -> None:
        if name:
            raise ForbiddenJobError(f"callback `{name}` is not allowed on this worker")


class ResidentWorker(SimpleWorker):
    """Runs jobs in its own process, so the pipelines loaded at start stay on the GPU.

    A plain SimpleWorker cannot heartbeat while a job runs, so RQ waits the job's whole timeout
    before it notices a dead worker. A thread here renews a short heartbeat instead: a killed
    worker's jobs are retried after `heartbeat_ttl` seconds plus one maintenance interval.

    With `batch_jobs` above 1, a job it takes brings along the queued jobs that can share its
    pipeline call (`worker.batching`); it then runs them one after another.
    """

    job_class = AllowListedJob
    queue_class = WorkerQueue

    def __init__(
        self, *args: Any, heartbeat_ttl: int, metrics: WorkerMetrics, batch_jobs: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._heartbeat_ttl = heartbeat_ttl
        self.metrics = metrics
        self._claimer = BatchClaimer(self.connection, batch_jobs, self.job_class)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return self._heartbeat_ttl

    @property
    def dequeue_timeout(self) -> int:
        # RQ runs its maintenance (which retries the jobs of a worker that died, or that Redis lost
        # mid-run) only between waits for a job, and an idle worker waits worker_ttl - 15 s: 405 s.
        return max(1, min(self.maintenance_interval, self.worker_ttl - 15))

    def check_for_suspension(self, burst: bool) -> None:
        with outages.riding_out(self, "checking for a suspension"):
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self) -> None:
        with outages.riding_out(self, "cleaning the registries"):
            super().run_maintenance_tasks()

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        with outages.riding_out(self, "renewing its heartbeat"):
            super().heartbeat(timeout, pipeline)

    def clean_registries(self) -> None:
        # A damaged record restores (AllowListedJob) and its failure is reported (FailureReporter)
        # without raising; should anything else raise here, the worker still goes on serving.
        try:
            super().clean_registries()
        except StopRequested:  # RQ's SIGTERM handler raises it wherever the worker is: let it stop
            raise
        except Exception:
            log.exception("cleaning the job registries failed; trying again at the next maintenance")
            self.last_cleaned_at = now()

    def execute_job(self, job: Job, queue: Queue) -> None:
        with outages.riding_out(self, f"running job {job.id}"):
            self._execute(job, queue)

    def _execute(self, job: Job, queue: Queue) -> None:
        job.origin = queue.name  # where RQ files the job's outcome, even if the record says otherwise
        pending = {job.id: (job, self.prepare_execution(job))}
        # RQ's own dequeue uses the intermediate list only when the worker listens on one queue.
        intermediate = len(self.queues) == 1
        batch = self._claimer.claim(job, queue, intermediate=intermediate)
        for member in batch.members[1:] if batch else ():
            member.job.redis_server_version = job.redis_server_version
            pending[member.job.id] = (member.job, self._take_along(member.job, queue, intermediate))
        self.metrics.jobs_per_call.observe(len(pending))
        lock = threading.Lock()
        began = time.monotonic()  # when every job taken here started, as its `started` event says
        with self._heartbeats(pending, lock), sharing(batch):
            for member, execution in list(pending.values()):
                # Everything logged while the job runs, RQ's and diffusers' lines included, names it.
                with job_context(member.id):
                    succeeded = self.perform_job(member, queue, execution)
                    seconds = time.monotonic() - began
                    self.metrics.ran(member, queue.name, succeeded=succeeded, seconds=seconds)
                with lock:
                    del pending[member.id]
        self.set_state(WorkerStatus.IDLE)

    def _take_along(self, job: Job, queue: Queue, intermediate: bool) -> Execution:
        """Marks a claimed job started by this worker, so that RQ retries it if the worker dies
        before its turn (RQ recovers only started jobs), and takes it off the intermediate list."""
        execution = self.prepare_execution(job)
        with self.connection.pipeline() as pipeline:
            job.prepare_for_execution(self.name, pipeline)
            if intermediate:
                pipeline.lrem(queue.intermediate_queue_key, 1, job.id)
            pipeline.execute()
        return execution

    @contextmanager
    def _heartbeats(self, pending: dict[str, tuple[Job, Execution]], lock: threading.Lock) -> Iterator[None]:
        """Beats for every job in `pending` (which the caller empties as they finish) until the end."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self._heartbeat_ttl / 3):
                with lock:
                    running = list(pending.values())
                for job, execution in running:
                    try:
                        self.maintain_heartbeats(job, execution)
                    except Exception:  # a missed beat is retried; the job itself must go on
                        log.warning("heartbeat for job %s failed", job.id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{next(iter(pending))}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class FailureReporter:
    """RQ exception handler: stops retries of hopeless jobs and announces final failures."""

    def __init__(self, events: EventLog) -> None:
        self._events = events

    def __call__(
        self, job: Job, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> bool:
        # RQ calls this while failing a job, and during its registry clean-up: an exception here
        # would end the worker (and every worker after it, meeting the same job), so none leaves.
        try:
            self._report(job, exc)
        except StopRequested:
            raise
        except Exception:
            log.exception("could not report the failure of job %s", job.id)
        return True  # let RQ's own handling (the failed-job registry) go on

    def _report(self, job: Job, exc: BaseException) -> None:
        if isinstance(exc, JobError) or _damage(job):
            job.retries_left = 0
        if not job.should_retry:
            reason = safe_reason(job, exc)
            self._events.publish(Failed(job_id=job.id, reason=reason))
            if not isinstance(job.meta, dict):
                job.meta = {}
            job.meta[FAILURE_REASON] = reason  # for `imagine status`, which lists failed jobs
            job.save_meta()


def safe_reason(job: Job, exc: BaseException) -> str:
    """What a member may read about a failure: never a traceback or internal detail."""
    if damage := _damage(job):
        return damaged_reason(damage)
    if isinstance(exc, JobError):
        return str(exc)
    if isinstance(exc, JobTimeoutException):
        return f"the job took longer than {job.timeout} seconds and was stopped"
    if isinstance(exc, AbandonedJobError):
        return "the worker running the job stopped, and no retries were left"
    return f"something went wrong on the worker (job {job.id}); an operator can find the details in its log"


def damaged_reason(damage: tuple[str, ...]) -> str:
    return f"the job's record in Redis is damaged ({'; '.join(damage)}), so it cannot run: please ask again"


def _damage(job: Job) -> tuple[str, ...]:
    return job.damage if isinstance(job, AllowListedJob) else ()


def build_worker(
    redis: Redis,
    queue_names: list[str],
    events: EventLog,
    *,
    heartbeat_ttl: int,
    maintenance_interval: int,
    batch_jobs: int = 1,
    metrics: WorkerMetrics | None = None,
) -> ResidentWorker:
    # The queues' job class is the one their registries' clean-up fetches abandoned jobs with.
    queues = [
        WorkerQueue(name, connection=redis, serializer=JSONSerializer, job_class=AllowListedJob)
        for name in queue_names
    ]
    return ResidentWorker(
        queues,
        connection=redis,
        serializer=JSONSerializer,
        heartbeat_ttl=heartbeat_ttl,
        batch_jobs=batch_jobs,
        metrics=WorkerMetrics() if metrics is None else metrics,
        maintenance_interval=maintenance_interval,
        exception_handlers=[FailureReporter(events)],
    )
