"""One soak run: the stack up, members and faults going until enough jobs were accepted, a grace
period for what is still on its way, then the outside check."""

import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from bench.soak import faults
from bench.soak.check import check
from bench.soak.members import Gate, Ledger, Traffic, member_loop
from bench.soak.stack import Stack
from emulator import BackgroundEmulator

LATE_CALLBACKS = 30.0
"""The emulator takes answers up to this late, so a slow answer is measured (and reported as late)
instead of vanishing as Discord's "Unknown interaction"."""


def soak(
    *,
    jobs: int,
    members: int,
    seed: int,
    kinds: list[str],
    workers: int = 2,
    grace: float = 180.0,
    max_seconds: float = 3600.0,
    answer_within: float = 3.0,
    keep: Path | None = None,
) -> dict[str, Any]:
    """Runs the soak and returns the report (`check.check`); `keep` keeps the processes' logs there."""
    rng = random.Random(seed)
    plan = faults.schedule(kinds, jobs, rng)
    with tempfile.TemporaryDirectory(prefix="imagine-soak-") as scratch:
        root = keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        with BackgroundEmulator(interaction_timeout=LATE_CALLBACKS) as discord:
            stack = Stack(root, workers, discord)
            try:
                stack.start()
                report = _drive(
                    stack,
                    plan,
                    rng,
                    jobs=jobs,
                    members=members,
                    grace=grace,
                    max_seconds=max_seconds,
                    answer_within=answer_within,
                )
            finally:
                stack.stop()
    report["seed"] = seed
    report["plan"] = [f"{p.kind} after {p.after_jobs} jobs" for p in plan]
    report["logs"] = str(keep) if keep else None
    return report


def _drive(
    stack: Stack,
    plan: list[faults.Planned],
    rng: random.Random,
    *,
    jobs: int,
    members: int,
    grace: float,
    max_seconds: float,
    answer_within: float,
) -> dict[str, Any]:
    discord = stack.discord
    channel = discord.call(lambda emulator: emulator.channel_id("general"))
    bot_id = discord.emulator.bot_user_id
    ids = [discord.call(lambda emulator, n=n: emulator.add_member(f"member{n}")) for n in range(members)]
    mallory = discord.call(lambda emulator: emulator.add_member("mallory"))
    ledger = Ledger(discord, channel)
    stop = threading.Event()
    traffic = Traffic(
        ledger, Gate(), stop, jobs, max_open=max(4, 3 * len(stack.worker_names)), bot_up=stack.bot_up
    )
    injector = faults.Injector(stack, traffic, mallory, random.Random(rng.random()))
    started = time.monotonic()
    deadline = started + max_seconds

    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            ledger.refresh(bot_id)
            time.sleep(0.3)

    threads = [threading.Thread(target=watch, name="soak-watch", daemon=True)]
    threads += [
        threading.Thread(
            target=member_loop,
            args=(member, random.Random(rng.random()), traffic),
            name=f"soak-member-{n}",
            daemon=True,
        )
        for n, member in enumerate(ids)
    ]
    fault_thread = threading.Thread(target=injector.run, args=(plan, stop), name="soak-faults", daemon=True)
    for thread in [*threads, fault_thread]:
        thread.start()
    while time.monotonic() < deadline and not (traffic.enough() and not fault_thread.is_alive()):
        time.sleep(0.5)
    stop.set()
    for thread in [*threads[1:], fault_thread]:
        thread.join(60)
    _settle(stack, ledger, injector, bot_id, min(grace, max(30.0, deadline - time.monotonic())))
    watching.set()
    stack.check()
    snapshot = ledger.refresh(bot_id)
    return check(
        ledger, snapshot, injector, stack, answer_within=answer_within, wall=time.monotonic() - started
    )


def _settle(stack: Stack, ledger: Ledger, injector: faults.Injector, bot_id: int, grace: float) -> None:
    """Waits until every accepted job shows its end (and no waiting message), and every malformed
    record was taken, or `grace` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        snapshot = ledger.refresh(bot_id)
        open_jobs = [
            s.key
            for s in ledger.accepted()
            if s.key and (not snapshot.finished(s.key) or snapshot.count(s.key, "waiting"))
        ]
        if not open_jobs and _records_taken(stack, injector):
            time.sleep(2.0)  # a last moment for a second copy to show, if one is on its way
            return
        time.sleep(0.5)


def _records_taken(stack: Stack, injector: faults.Injector) -> bool:
    try:
        redis = Redis.from_url(stack.redis.url, socket_timeout=2)
        statuses = [redis.hget(f"rq:job:{job_id}", "status") for job_id in injector.records]
    except RedisError:
        return False
    return all(status not in (b"queued", b"started", b"scheduled", b"deferred") for status in statuses)
