"""What the queue adds to a job: a private redis-server, a real `imagine-worker` with the tiny
model (started as playground.stack starts it), and jobs submitted one after another (each once the
previous is done, so the queue is empty and the figures are overhead, not waiting).

- enqueue → started: from the client calling `JobSubmitter.submit` to the worker's `started`
  event (its timestamp; one machine, one clock);
- done → result readable: from the worker's `done` event (stamped once the images are stored) to
  the client, following the event stream, having read the grid's bytes from the artifact store.
"""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.local_redis import LocalRedis
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs.events import Done, Failed, Started
from jobs.prompt import PromptPart
from jobs.resolve import new_job_id
from jobs.specs import Generation, ImagineSpec
from models.tiny import materialize_builtin
from models.tiny.parts import TINY_SIZE
from playground.stack import start_worker

JOB_TIMEOUT = 60.0


@dataclass(frozen=True)
class QueueResult:
    to_started: list[float]
    to_readable: list[float]
    worker_seconds: list[float]
    """The worker's own time per job (`Done.seconds`), for scale."""


def measure_queue(jobs: int, *, steps: int = 1) -> QueueResult:
    with tempfile.TemporaryDirectory(prefix="imagine-bench-") as scratch:
        root = Path(scratch)
        materialize_builtin("tiny", root / "models")
        with LocalRedis(root / "redis") as server:
            worker = start_worker(server.url, root / "models", root / "worker.log", models="tiny")
            try:
                return _submit_all(Redis.from_url(server.url), jobs, steps)
            finally:
                worker.stop()


def _submit_all(redis: Redis, jobs: int, steps: int) -> QueueResult:
    settings = BrokerSettings()
    events = EventLog.for_settings(redis, settings)
    submitter = JobSubmitter(redis, settings, events)
    artifacts = ArtifactStore(redis, settings.artifact_ttl)
    to_started, to_readable, worker_seconds = [], [], []
    for n in range(jobs):
        spec = ImagineSpec(
            job_id=new_job_id(),
            generation=Generation(
                model="tiny",
                prompt=(PromptPart(text=f"a lantern {n}"),),
                width=TINY_SIZE,
                height=TINY_SIZE,
                steps=steps,
                guidance=7.5,
                sampler="dpm++2m_karras",
                seed=n,
            ),
        )
        after = events.latest_id()
        submitted = time.time()
        submitter.submit(spec)
        started, done, readable = _follow(events, artifacts, after, spec.job_id)
        to_started.append(started.at - submitted)
        to_readable.append(readable - done.at)
        worker_seconds.append(done.seconds)
    return QueueResult(to_started, to_readable, worker_seconds)


def _follow(
    events: EventLog, artifacts: ArtifactStore, after: str, job_id: str
) -> tuple[Started, Done, float]:
    started = None
    deadline = time.monotonic() + JOB_TIMEOUT
    for item in events.follow(after, block_ms=100):
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} did not finish within {JOB_TIMEOUT:.0f} s")
        if item is None or item[1].job_id != job_id:
            continue
        event = item[1]
        if isinstance(event, Failed):
            raise RuntimeError(f"job {job_id} failed: {event.reason}")
        if isinstance(event, Started):
            started = event
        elif isinstance(event, Done):
            assert event.grid is not None and started is not None, event
            artifacts.get(event.grid.key)  # what a client reads to show the result
            return started, event, time.time()
    raise AssertionError("the event stream ended")  # follow() never ends
