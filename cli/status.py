"""`imagine status`: the queues, the workers and what each is doing, the failed jobs and why they
failed; `imagine status requeue|drop` puts failed jobs back in their queue or deletes them."""

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from broker import monitor
from broker.monitor import FailedJob, QueueDepth, UnknownFailedJobError, WorkerView

_ACTIONS = {
    "requeue": ("Put failed jobs back at the end of their queue.", monitor.requeue, "requeued"),
    "drop": ("Delete failed jobs.", monitor.drop, "dropped"),
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status",
        help="the queues, the workers and the failed jobs; requeue or drop failed jobs",
        description=__doc__,
    )
    status.add_argument("--json", action="store_true", help="print JSON, for scripts")
    actions = status.add_subparsers(dest="action", metavar="{requeue,drop}")
    for name, (help_text, _, _) in _ACTIONS.items():
        action = actions.add_parser(name, help=help_text.lower().rstrip("."), description=help_text)
        which = action.add_mutually_exclusive_group(required=True)
        which.add_argument("job", nargs="?", help="a failed job's id, or enough of its start to tell")
        which.add_argument("--all", action="store_true", help="every failed job")
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")


def run(args: argparse.Namespace, redis: Redis, models: list[str]) -> int:
    if args.action is None:
        return _show(redis, models, as_json=args.json)
    _, act, done = _ACTIONS[args.action]
    try:
        chosen = monitor.failed_ids(redis) if args.all else [monitor.find_failed(redis, args.job)]
    except UnknownFailedJobError as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 2
    for model, job_id in chosen:
        act(redis, model, job_id)
    if args.json:
        print(json.dumps({done: [job_id for _, job_id in chosen]}))
    elif not chosen:
        print(f"no failed jobs: nothing {done}")
    else:
        for model, job_id in chosen:
            print(f"{done} {job_id} ({model})")
    return 0


def _show(redis: Redis, models: list[str], *, as_json: bool) -> int:
    queues = monitor.queue_depths(redis, models)
    workers = monitor.workers(redis)
    failed = monitor.failed_jobs(redis, models)
    now = datetime.now(UTC)
    if as_json:
        report = {
            "at": now.isoformat(),
            "queues": [dataclasses.asdict(queue) for queue in queues],
            "workers": [_worker_json(worker, now) for worker in workers],
            "failed": [dataclasses.asdict(job) for job in failed],
        }
        print(json.dumps(report, default=_iso, indent=2))
        return 0
    sections = [_queues_text(queues), _workers_text(workers, now), _failed_text(failed, now)]
    print("\n\n".join(sections))
    return 0


def _queues_text(queues: list[QueueDepth]) -> str:
    width = max([len("Queues"), *(len(queue.model) + 2 for queue in queues)])
    lines = [f"{'Queues':<{width}}  waiting  running  held back  failed"]
    for q in queues:
        lines.append(f"  {q.model:<{width - 2}}  {q.waiting:>7}  {q.running:>7}  {q.held:>9}  {q.failed:>6}")
    if not queues:
        lines.append("  (no queue yet: nothing was ever submitted)")
    return "\n".join(lines)


def _workers_text(workers: list[WorkerView], now: datetime) -> str:
    lines = [f"Workers ({len(workers)})"]
    for worker in workers:
        where = f"{worker.host or '?'}, pid {worker.pid or '?'}"
        lines.append(f"  {worker.name}  on {where}  serves {', '.join(worker.models) or '-'}")
        doing = worker.state
        if worker.job_id:
            took = f" for {_age(worker.job_started, now)}" if worker.job_started else ""
            doing = f"{worker.state}: {worker.operation} on {worker.model}, job {worker.job_id}{took}"
        heartbeat = f"{_age(worker.last_heartbeat, now)} ago" if worker.last_heartbeat else "never"
        lines.append(
            f"    {doing} · last heartbeat {heartbeat} · {worker.jobs_done} done, {worker.jobs_failed} failed"
        )
    if not workers:
        lines.append("  (none: start one with `imagine-worker`)")
    return "\n".join(lines)


def _failed_text(failed: list[FailedJob], now: datetime) -> str:
    lines = [f"Failed jobs ({len(failed)})"]
    for job in failed:
        when = f"failed {_age(job.failed_at, now)} ago" if job.failed_at else "failed"
        attempts = f" after {job.attempts} attempt{'s' * (job.attempts != 1)}" if job.attempts else ""
        who = f" requested by {job.requested_by}" if job.requested_by else ""
        lines.append(f"  {job.job_id}  {job.operation} on {job.model}{who}, {when}{attempts}")
        lines.append(f"    {job.reason}")
    if failed:
        lines.append("  requeue or drop them: imagine status requeue|drop JOB   (or --all)")
    return "\n".join(lines)


def _worker_json(worker: WorkerView, now: datetime) -> dict[str, Any]:
    data = dataclasses.asdict(worker)
    data["job_seconds"] = _seconds(worker.job_started, now)
    data["heartbeat_age_seconds"] = _seconds(worker.last_heartbeat, now)
    return data


def _seconds(since: datetime | None, now: datetime) -> float | None:
    return round((now - since).total_seconds(), 1) if since else None


_UNITS = (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1))


def _age(since: datetime, now: datetime) -> str:
    """`42s`, `3m 5s`, `2h 10m`, `1d 4h`."""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size, smaller, smaller_size in _UNITS:
        if seconds >= size:
            rest = seconds % size // smaller_size
            return f"{seconds // size}{unit}" + (f" {rest}{smaller}" if rest else "")
    return f"{seconds}s"


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
