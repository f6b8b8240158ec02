"""What members read: the text and buttons of a job while it waits, runs, succeeds or fails."""

import discord

from bot.buttons import RerollButton, RetryButton, UpscaleButton, VaryButton
from bot.deliveries import Delivery
from bot.info import Overview
from jobs import limits
from jobs.specs import Safety, Strength

DMS_CLOSED = "Your DMs are closed to me, so your result is here instead of in a direct message."

_TITLE_LIMIT = 1500
"""Characters of the prompt shown; a message holds 2000."""


def headline(delivery: Delivery) -> str:
    """`**prompt** - Image #2 <@member>`, as Midjourney writes it."""
    title = delivery.title if len(delivery.title) <= _TITLE_LIMIT else delivery.title[:_TITLE_LIMIT] + "…"
    label = f"{delivery.label} " if delivery.label else ""
    return f"**{discord.utils.escape_markdown(title)}** - {label}<@{delivery.requester_id}>"


def waiting(delivery: Delivery) -> str:
    place = f" · #{delivery.position} in queue" if delivery.position else ""
    return f"{headline(delivery)} (Waiting to start{place})"


def running(delivery: Delivery, percent: int) -> str:
    return f"{headline(delivery)} ({percent}%)"


def finished(delivery: Delivery, warnings: tuple[str, ...] = ()) -> str:
    return "\n".join([headline(delivery), *(f"-# note: {warning}" for warning in warnings)])


def failed(delivery: Delivery, reason: str) -> str:
    return f"{headline(delivery)}\n**Could not finish:** {reason}"


def mentions(delivery: Delivery) -> discord.AllowedMentions:
    """Only the requester is pinged, whatever the prompt says (`@everyone`, roles, members)."""
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(delivery.requester_id)])


def flag_notes(safety: Safety, flagged: tuple[int, ...], count: int) -> tuple[str, ...]:
    """What the result says about images the NSFW check flagged."""
    if not flagged or safety is Safety.OFF:
        return ()
    which = "this image" if count == 1 else _images(flagged)
    if safety is Safety.BLOCK:
        return (f"{which} blocked by this server's NSFW filter",)
    return (f"{which} marked as a spoiler: flagged as possibly NSFW",)


def grid_buttons(job_id: str, blocked: tuple[int, ...] = ()) -> discord.ui.View:
    """U1–U4 on the first row; V1–V4 and 🔄 on the second. A blocked image's buttons are disabled."""
    view = discord.ui.View(timeout=None)
    for index in range(1, limits.GRID_IMAGES + 1):
        view.add_item(_disabled_if(UpscaleButton(job_id, index), index in blocked))
    for index in range(1, limits.GRID_IMAGES + 1):
        view.add_item(_disabled_if(VaryButton(job_id, index), index in blocked))
    view.add_item(RerollButton(job_id))
    return view


def upscale_buttons(job_id: str, grid_url: str | None, *, blocked: bool = False) -> discord.ui.View:
    """Vary (Subtle), Vary (Strong) and a link back to the grid the image came from."""
    view = discord.ui.View(timeout=None)
    for strength in Strength:
        view.add_item(_disabled_if(VaryButton(job_id, 1, strength), blocked))
    if grid_url:
        view.add_item(discord.ui.Button(label="Grid", emoji="↖️", url=grid_url))
    return view


def retry_buttons(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(job_id))
    return view


def overview(info: Overview) -> str:
    """`/info`, for the member who asked."""
    online = ", ".join(f"{name} ({state})" for name, state in sorted(info.workers.items())) or "none"
    lines = [
        f"**Queue:** {info.waiting} waiting · {info.running} running",
        f"**Workers online:** {len(info.workers)}" + (f" · {online}" if info.workers else ""),
        "**Your jobs:** " + ("none" if not info.mine else f"{len(info.mine)} unfinished"),
    ]
    for job in info.mine:
        title = discord.utils.escape_markdown(job.title[:80])
        lines.append(f"- {title} · {job.status}")
    return "\n".join(lines)


def _images(indices: tuple[int, ...]) -> str:
    numbers = [f"#{index}" for index in indices]
    if len(numbers) == 1:
        return f"image {numbers[0]}"
    return f"images {', '.join(numbers[:-1])} and {numbers[-1]}"


def _disabled_if(button: discord.ui.DynamicItem, disabled: bool) -> discord.ui.DynamicItem:
    button.item.disabled = disabled
    return button
