"""`python -m bench api`: what the HTTP API adds to queueing a job, against submitting it straight.

A private redis-server and a real `imagine-api` (as `playground/stack.py` starts it; no worker, so
every job waits in its queue), one API key per client (or `--keys` shared among them; made with
`KeyStore.create`, limits high enough that nothing is refused), then the same imagine jobs along
each path, one after the other, Redis flushed and the keys made again before each (and after its
warm-up):

- api: `--clients` asyncio clients sharing one httpx connection pool post `POST /v1/jobs`;
- direct: as many threads build the same specs as the route does (`parse_prompt`,
  `imagine_specs`, `Submissions.shape`) and hand them to `JobSubmitter.submit`, with the key's
  running limit, as `Submissions.submit` does (the bot's path: no key bookkeeping);
- direct+keys: the same, through `Submissions.submit` (the key's waiting and hourly limits and
  job records too): what the API runs per request, without HTTP.

A job is queued once `JobSubmitter.submit` has put it on its model's RQ queue (or held it back
for the key's running limit) and stamped its `queued` event (`Queued.at`, `time.time()` on this
machine). Latency: from just before the request is sent (or the spec built) to that stamp.

    .venv/bin/python -m bench api [--clients 32] [--requests 2000] [--warmup N] [--keys N] [--json]

Nothing here imports torch.
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from api.errors import ApiError
from api.keys import ApiKey, KeyLimits, KeyStore
from api.settings import ApiSettings
from api.submissions import Submissions
from broker.events import EventLog
from broker.local_redis import LocalRedis, free_port
from broker.queues import JobSubmitter
from jobs import keys
from jobs.events import EVENT, Queued
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs, random_seed
from models.catalog import load_catalog
from playground.stack import StartupError, start_api

PATHS = {
    "api": "api (POST /v1/jobs)",
    "direct": "direct (JobSubmitter)",
    "direct+keys": "direct (Submissions)",
}
MOST_WAITING: int = KeyLimits.model_json_schema()["properties"]["waiting"]["maximum"]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warmup = 4 * args.clients if args.warmup is None else args.warmup
    key_count = min(args.keys or args.clients, args.clients)
    if _per_key(max(args.requests, warmup), args.clients, key_count) > MOST_WAITING:
        print(
            f"a key may have at most {MOST_WAITING} jobs waiting: give more --keys or fewer --requests",
            file=sys.stderr,
        )
        return 2
    try:
        report = measure(args.clients, args.requests, warmup, key_count)
    except StartupError as error:  # the API did not come up: its own output says why
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 1 if any(path["errors"] for path in report["paths"].values()) else 0


def prompt(n: int) -> str:
    return f"a lighthouse on a cliff at dusk, oil painting {n} --seed {n}"


def measure(clients: int, requests: int, warmup: int, key_count: int | None = None) -> dict[str, Any]:
    """Each path's figures, and the API's against the direct path's; client i uses key i % `key_count`
    (default: one key per client)."""
    key_count = key_count or clients
    with tempfile.TemporaryDirectory(prefix="imagine-bench-api-") as scratch:
        root = Path(scratch)
        with LocalRedis(root / "redis") as server:
            redis = Redis.from_url(server.url)
            port = free_port()
            api = start_api(server.url, root / "api.log", port)
            try:
                url = f"http://127.0.0.1:{port}"
                runs = {
                    "api": lambda texts, jobs: asyncio.run(_post_all(url, texts, jobs)),
                    "direct": lambda texts, jobs: _submit_all(redis, texts, jobs, keep_records=False),
                    "direct+keys": lambda texts, jobs: _submit_all(redis, texts, jobs, keep_records=True),
                }
                per_key = _per_key(max(requests, warmup), clients, key_count)
                paths = {}
                for name, run in runs.items():
                    run(_fresh_keys(redis, clients, key_count, per_key), _share(range(warmup), clients))
                    texts = _fresh_keys(redis, clients, key_count, per_key)  # the stream starts empty again
                    sent, errors, wall = run(texts, _share(range(requests), clients))
                    paths[name] = _figures(redis, sent, errors, wall, requests, clients)
            finally:
                api.stop()
    return {
        "clients": clients,
        "keys": key_count,
        "requests": requests,
        "warmup": warmup,
        "paths": paths,
        **_added(paths),
    }


def _fresh_keys(redis: Redis, clients: int, count: int, per_key: int) -> list[str]:
    """An empty Redis with `count` keys that may each queue `per_key` jobs (so nothing is refused):
    the key of each client."""
    redis.flushall()
    limits = KeyLimits(waiting=per_key, hourly=per_key)
    texts = [KeyStore(redis).create(f"bench-{n}", limits)[1] for n in range(count)]
    return [texts[n % count] for n in range(clients)]


def _share(numbers: range, clients: int) -> list[list[int]]:
    """Job numbers per client, dealt in turn."""
    return [list(numbers[n::clients]) for n in range(clients)]


def _per_key(jobs: int, clients: int, key_count: int) -> int:
    """The most jobs any key gets when client i uses key i % `key_count`."""
    shares = [len(share) for share in _share(range(jobs), clients)]
    return max(sum(shares[n::key_count]) for n in range(key_count))


Outcome = tuple[dict[str, float], Counter[str], float]
"""When each accepted job's request was sent (by job id), refusals by status, and the wall time."""


async def _post_all(url: str, texts: list[str], jobs: list[list[int]]) -> Outcome:
    sent: dict[str, float] = {}
    errors: Counter[str] = Counter()
    pool = httpx.Limits(max_connections=len(texts), max_keepalive_connections=len(texts))
    async with httpx.AsyncClient(base_url=url, limits=pool, timeout=120) as client:

        async def one(text: str, numbers: list[int]) -> None:
            headers = {"Authorization": f"Bearer {text}"}
            for n in numbers:
                at = time.time()
                try:
                    response = await client.post(
                        "/v1/jobs", json={"op": "imagine", "prompt": prompt(n)}, headers=headers
                    )
                except httpx.HTTPError as error:
                    errors[type(error).__name__] += 1
                    continue
                if response.status_code != 202:
                    errors[f"HTTP {response.status_code}"] += 1
                    continue
                for view in response.json():
                    sent[view["id"]] = at

        start = time.perf_counter()
        await asyncio.gather(*(one(text, numbers) for text, numbers in zip(texts, jobs, strict=True)))
        return sent, errors, time.perf_counter() - start


def _submit_all(redis: Redis, texts: list[str], jobs: list[list[int]], *, keep_records: bool) -> Outcome:
    """`jobs[i]` built and submitted by thread i for key i, as the route builds them."""
    settings = ApiSettings()
    catalog = load_catalog()  # the embedded one, as the API started here reads
    events = EventLog.for_settings(redis, settings)
    submitter = JobSubmitter(redis, settings, events)
    submissions = Submissions(
        redis, events, catalog, submitter, safety=settings.api_nsfw, ttl=settings.artifact_ttl
    )
    store = KeyStore(redis)
    api_keys = [store.authenticate(text) for text in texts]
    assert None not in api_keys, "a key made a moment ago does not authenticate"
    sent: dict[str, float] = {}
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    ready = threading.Barrier(len(texts) + 1)

    def one(key: ApiKey, numbers: list[int]) -> None:
        ready.wait()
        for n in numbers:
            at = time.time()
            try:
                specs = imagine_specs(
                    parse_prompt(prompt(n)), catalog, seed=random_seed(), requested_by=key.requester
                )
                specs = [submissions.shape(key, spec) for spec in specs]
                if keep_records:
                    submissions.submit(key, specs)
                else:
                    for spec in specs:
                        submitter.submit(spec, concurrency=key.limits.running)
            except Exception as error:  # counted, never dropped: a thread that died would hide it
                with lock:
                    errors[
                        f"HTTP {error.status}" if isinstance(error, ApiError) else type(error).__name__
                    ] += 1
                continue
            with lock:
                sent.update((spec.job_id, at) for spec in specs)

    threads = [
        threading.Thread(target=one, args=(key, numbers), daemon=True)
        for key, numbers in zip(api_keys, jobs, strict=True)
    ]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return sent, errors, time.perf_counter() - start


def _figures(
    redis: Redis, sent: dict[str, float], errors: Counter[str], wall: float, requests: int, clients: int
) -> dict[str, Any]:
    queued = _queued_at(redis)
    latencies = [queued[job] - at for job, at in sent.items() if job in queued]
    missing = len(sent) - len(latencies)
    if missing:
        errors["accepted, no queued event"] += missing
    return {
        "jobs": len(sent),
        "requests": requests,
        "clients": clients,
        "wall_s": wall,
        "accepted_per_s": len(sent) / wall,
        "latency_ms": _percentiles(latencies),
        "errors": dict(errors),
    }


def _queued_at(redis: Redis) -> dict[str, float]:
    """Each job's `queued` stamp, from the whole event stream."""
    stamps, start = {}, "-"
    while batch := redis.xrange(keys.EVENTS_STREAM, min=start, max="+", count=1000):
        for _, fields in batch:
            event = EVENT.validate_json(fields[b"event"])
            if isinstance(event, Queued):
                stamps[event.job_id] = event.at
        start = f"({batch[-1][0].decode()}"
    return stamps


def _percentiles(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "p99": None, "max": None}
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, max(0, -(-99 * len(ms) // 100) - 1))]  # nearest rank
    return {"p50": statistics.median(ms), "p99": p99, "max": ms[-1]}


def _added(paths: dict[str, Any]) -> dict[str, Any]:
    """The API against the direct path: added ms at p50 and p99, and api / direct ratios."""
    api, direct = paths["api"], paths["direct"]
    added: dict[str, Any] = {"added_ms": {}, "ratio_api_over_direct": {}}
    for figure in ("p50", "p99"):
        ours, theirs = api["latency_ms"][figure], direct["latency_ms"][figure]
        known = ours is not None and theirs is not None
        added["added_ms"][figure] = ours - theirs if known else None
        added["ratio_api_over_direct"][figure] = ours / theirs if known and theirs else None
    rate = direct["accepted_per_s"]
    added["ratio_api_over_direct"]["accepted_per_s"] = api["accepted_per_s"] / rate if rate else None
    return added


def table(report: dict[str, Any]) -> str:
    lines = [
        f"API overhead: {report['requests']} imagine jobs per path, {report['clients']} clients at once"
        f" ({_keys(report)}), after {report['warmup']} warm-up jobs; request sent → `queued` stamped",
        f"  {'path':24}{'jobs':>6}{'clients':>9}{'accepted/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}",
    ]
    for name, path in report["paths"].items():
        ms = path["latency_ms"]
        lines.append(
            f"  {PATHS[name]:24}{path['jobs']:>6}{path['clients']:>9}{path['accepted_per_s']:>12.1f}"
            f"{_num(ms['p50']):>9}{_num(ms['p99']):>9}{_num(ms['max']):>9}"
        )
    added, ratio = report["added_ms"], report["ratio_api_over_direct"]
    lines.append(
        f"  added by the API (api − direct): p50 {_num(added['p50'], '+.1f')} ms"
        f" ({_num(ratio['p50'], '.2f')}×)"
        f" · p99 {_num(added['p99'], '+.1f')} ms ({_num(ratio['p99'], '.2f')}×)"
        f" · accepted/s {_num(ratio['accepted_per_s'], '.2f')}× direct's"
    )
    for name, path in report["paths"].items():
        if path["errors"]:
            found = ", ".join(f"{kind}: {count}" for kind, count in sorted(path["errors"].items()))
            lines.append(f"  errors, {PATHS[name]}: {found} (of {path['requests']} requests)")
    return "\n".join(lines)


def _keys(report: dict[str, Any]) -> str:
    if report["keys"] == report["clients"]:
        return "one API key each"
    return f"{report['keys']} API key{'s' if report['keys'] > 1 else ''} among them"


def _num(value: float | None, spec: str = ".1f") -> str:
    return "n/a" if value is None else f"{value:{spec}}"


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < minimum:
            raise argparse.ArgumentTypeError(f"`{text}`: give a whole number, at least {minimum}")
        return int(text)

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench api", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=_count(1), default=32, help="clients at once (default: 32)")
    parser.add_argument("--requests", type=_count(1), default=2000, help="jobs per path (default: 2000)")
    parser.add_argument(
        "--warmup", type=_count(0), help="untimed jobs per path first (default: 4 per client)"
    )
    parser.add_argument(
        "--keys",
        type=_count(1),
        help="API keys the clients share, client i using key i %% N (default: one each)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    return parser


if __name__ == "__main__":
    sys.exit(main())
