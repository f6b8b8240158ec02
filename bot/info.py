"""`/info`: the queue, the member's own jobs and the workers online, read from RQ and our records."""

from dataclasses import dataclass

from redis import Redis
from rq import Worker
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from bot.deliveries import DeliveryBook
from broker.queues import model_queue
from models.catalog import Catalog

_SHOWN_JOBS = 10


@dataclass(frozen=True)
class MemberJob:
    title: str
    status: str


@dataclass(frozen=True)
class Overview:
    waiting: int
    running: int
    workers: dict[str, str]
    """Worker name → what it does now ("busy", "idle", …)."""
    mine: list[MemberJob]


def overview(redis: Redis, catalog: Catalog, deliveries: DeliveryBook, member_id: int) -> Overview:
    queues = [model_queue(redis, name) for name in catalog.names]
    workers: dict[str, str] = {}
    for queue in queues:
        for worker in Worker.all(connection=redis, queue=queue, serializer=JSONSerializer):
            workers[worker.name] = worker.get_state()
    return Overview(
        waiting=sum(queue.count for queue in queues),
        running=sum(StartedJobRegistry(queue=queue).count for queue in queues),
        workers=workers,
        mine=_member_jobs(redis, deliveries, member_id),
    )


def _member_jobs(redis: Redis, deliveries: DeliveryBook, member_id: int) -> list[MemberJob]:
    job_ids = deliveries.unfinished(member_id)[-_SHOWN_JOBS:]
    jobs = Job.fetch_many(job_ids, connection=redis, serializer=JSONSerializer)
    mine = []
    for job_id, job in zip(job_ids, jobs, strict=True):
        delivery = deliveries.get(job_id)
        if job is None or delivery is None:
            continue
        mine.append(MemberJob(title=delivery.title, status=_STATUS.get(job.get_status(), "finishing")))
    return mine


_STATUS = {
    "queued": "waiting",
    "deferred": "waiting (your other jobs first)",
    "scheduled": "waiting to retry",
    "started": "running",
}
