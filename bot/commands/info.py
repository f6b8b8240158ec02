"""`/info`: the queue, the member's own jobs and the workers online, read through `broker.monitor`
(which changes nothing it reads)."""

import asyncio
from dataclasses import dataclass

import discord
from discord import app_commands
from redis import Redis

from bot.delivery.deliveries import DeliveryBook
from bot.rules.policy import Asker, Policy
from broker import monitor
from broker.fairness import lanes
from jobs.lanes import Lane
from models.catalog import Catalog

_SHOWN_JOBS = 10

_WAITING = ("queued", "deferred", "scheduled")
_STATUS = {
    "queued": "waiting",
    "deferred": "waiting (your other jobs first)",
    "scheduled": "waiting to retry",
    "started": "running",
}


@dataclass(frozen=True)
class MemberJob:
    title: str
    status: str
    lane: Lane | None = None
    """The lane it waits in; None once it runs."""


@dataclass(frozen=True)
class Overview:
    waiting: int
    running: int
    workers: dict[str, str]
    """Worker name → what it does now ("busy", "idle", …)."""
    mine: list[MemberJob]


def overview(redis: Redis, catalog: Catalog, deliveries: DeliveryBook, member_id: int) -> Overview:
    """The catalog's queues, the workers serving them, and the member's unfinished jobs."""
    depths = monitor.queue_depths(redis, catalog.names)
    served = set(catalog.names)
    return Overview(
        waiting=sum(depth.waiting for depth in depths if depth.model in served),
        running=sum(depth.running for depth in depths if depth.model in served),
        workers={w.name: w.state for w in monitor.workers(redis) if served.intersection(w.models)},
        mine=_member_jobs(redis, deliveries, member_id),
    )


def _member_jobs(redis: Redis, deliveries: DeliveryBook, member_id: int) -> list[MemberJob]:
    job_ids = deliveries.unfinished(member_id)[-_SHOWN_JOBS:]
    found = monitor.statuses(redis, job_ids)
    waiting = lanes(redis, [job_id for job_id, status in found.items() if status in _WAITING])
    mine = []
    for job_id in job_ids:
        delivery = deliveries.get(job_id)
        if job_id not in found or delivery is None:
            continue
        status = _STATUS.get(found[job_id], "finishing")
        mine.append(MemberJob(title=delivery.title, status=status, lane=waiting.get(job_id)))
    return mine


def text(info: Overview) -> str:
    """`/info`, for the member who asked."""
    online = ", ".join(f"{name} ({state})" for name, state in sorted(info.workers.items())) or "none"
    lines = [
        f"**Queue:** {info.waiting} waiting · {info.running} running",
        f"**Workers online:** {len(info.workers)}" + (f" · {online}" if info.workers else ""),
        "**Your jobs:** " + ("none" if not info.mine else f"{len(info.mine)} unfinished"),
    ]
    for job in info.mine:
        title = discord.utils.escape_markdown(job.title[:80])
        lane = f" · {job.lane.value} lane" if job.lane else ""
        lines.append(f"- {title} · {job.status}{lane}")
    return "\n".join(lines)


def add_info_command(
    tree: app_commands.CommandTree, redis: Redis, catalog: Catalog, policy: Policy, deliveries: DeliveryBook
) -> None:
    @tree.command(name="info", description="The queue, your unfinished jobs and the workers online")
    @app_commands.guild_only()
    async def info(interaction: discord.Interaction) -> None:
        found = await asyncio.to_thread(overview, redis, catalog, deliveries, interaction.user.id)
        terms = await asyncio.to_thread(policy.terms, Asker.of(interaction))
        limits = await asyncio.to_thread(policy.limits_left, terms)
        answer = f"{text(found)}\n**Your limits here:** {limits}"
        await interaction.response.send_message(answer, ephemeral=True)
