"""`/info` and `imagine status` read RQ's records through `broker.monitor` and change none of them,
even where RQ's own readers would clean up: a dead worker's job in the started registry, a worker
whose record expired."""

import time
from typing import Any

from redis import Redis
from rq import Worker
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from bot.commands import info
from bot.delivery.deliveries import Delivery, DeliveryBook
from broker import monitor
from broker.queues import JobSubmitter, model_queue
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from models.catalog import load_catalog

CATALOG = load_catalog()
PROFILE = CATALOG.get("tiny").profile()
MEMBER = 42


def _snapshot(redis: Redis) -> dict[bytes, Any]:
    """Every key with its type and content (no TTLs): what a read must leave as it found it."""
    read = {
        b"string": redis.get,
        b"hash": redis.hgetall,
        b"set": lambda key: sorted(redis.smembers(key)),
        b"zset": lambda key: redis.zrange(key, 0, -1, withscores=True),
        b"list": lambda key: redis.lrange(key, 0, -1),
        b"stream": lambda key: redis.xrange(key),
    }
    return {key: (kind := redis.type(key), read[kind](key)) for key in sorted(redis.scan_iter())}


def _delivery(job_id: str) -> Delivery:
    return Delivery(
        job_id=job_id,
        title=f"job {job_id[:4]}",
        requester_id=MEMBER,
        channel_id=7,
        guild_id=1,
        application_id=3,
        interaction_token="token",
        interaction_at=time.time(),
        attachment_size_limit=10_000_000,
    )


def test_info_and_status_leave_rqs_records_as_they_found_them(redis: Redis, submitter: JobSubmitter):
    deliveries = DeliveryBook(redis, 600)
    specs = [imagine_spec(parse_prompt(f"a fox {n}"), PROFILE, requested_by=str(MEMBER)) for n in range(3)]
    for spec in specs:
        deliveries.save(_delivery(spec.job_id))
        submitter.submit(spec)
    queue = model_queue(redis, "tiny")
    taken = queue.pop_job_id()  # a worker took it, then died: its heartbeat in the registry expired
    started = StartedJobRegistry(queue=queue)
    redis.zadd(started.key, {f"{taken}:run-1": time.time() - 60})
    queue.fetch_job(taken).set_status("started")
    alive = Worker([queue], "gpu-a", connection=redis, serializer=JSONSerializer)
    alive.register_birth()
    alive.set_state("busy")
    redis.sadd(Worker.redis_workers_keys, f"{Worker.redis_worker_namespace_prefix}gone")  # record expired
    before = _snapshot(redis)

    found = info.overview(redis, CATALOG, deliveries, MEMBER)
    monitor.queue_depths(redis, CATALOG.names)
    monitor.workers(redis)
    monitor.failed_jobs(redis, CATALOG.names)

    assert _snapshot(redis) == before
    assert (found.waiting, found.running, found.workers) == (2, 0, {"gpu-a": "busy"})
    assert [job.status for job in found.mine] == ["running", "waiting", "waiting"]
    # RQ's own readers would have changed what they looked at: the set-up is one they clean up.
    StartedJobRegistry(queue=queue).count  # noqa: B018
    Worker.all(connection=redis, serializer=JSONSerializer)
    after = _snapshot(redis)
    for key in (started.key, Worker.redis_workers_keys):
        assert after.get(key.encode()) != before[key.encode()]
