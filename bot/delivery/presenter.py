"""Turning one job's events into what the channel shows: progress edits, then the result."""

import asyncio
import io
import logging
import re
import time
from typing import Any

import discord
from PIL import Image

from bot.delivery import render
from bot.delivery.consumer import Lane
from bot.delivery.deliveries import Delivery, DeliveryBook
from bot.delivery.poster import Poster, refused
from bot.metrics import BotMetrics
from bot.requests import buttons
from broker.artifacts import ArtifactExpiredError, ArtifactStore
from broker.images import fit
from broker.logs import job_context
from jobs.events import Done, Event, Failed, Progress, Queued, Started
from jobs.specs import Safety

log = logging.getLogger(__name__)


class Presenter:
    """Shows each event of the bot's jobs; events of jobs it did not start are ignored."""

    def __init__(
        self,
        poster: Poster,
        deliveries: DeliveryBook,
        artifacts: ArtifactStore,
        *,
        interval: float,
        metrics: BotMetrics | None = None,
    ) -> None:
        self._metrics = BotMetrics() if metrics is None else metrics
        self._poster = poster
        self._deliveries = deliveries
        self._artifacts = artifacts
        self._interval = interval
        self._last_edit: dict[str, float] = {}

    async def present(self, event: Event, lane: Lane) -> None:
        """Shows `event`; progress that a newer event of the job in `lane` supersedes is skipped.
        What is logged meanwhile names the job."""
        self._metrics.events.labels(event.kind).inc()
        with job_context(event.job_id):
            await self._present(event, lane)

    async def _present(self, event: Event, lane: Lane) -> None:
        delivery = await asyncio.to_thread(self._deliveries.get, event.job_id)
        if delivery is None:
            return
        posted = await asyncio.to_thread(self._deliveries.result_message, event.job_id)
        match event:
            case Done():
                await self._deliver(delivery, event, posted)
            case Failed(reason=reason):
                await self._fail(delivery, reason, posted)
            case _ if posted is not None or delivery.message_id is None:
                return  # finished, or the waiting message is not there yet
            case Queued(position=position) if position != delivery.position:
                moved = delivery.model_copy(update={"position": position})
                await self._edit(delivery, lane, content=render.waiting(moved))
            case Started():
                await self._edit(delivery, lane, content=render.running(delivery, 0))
            case Progress() as progress:
                files = (
                    [discord.File(io.BytesIO(progress.preview), "preview.jpg")] if progress.preview else None
                )
                await self._edit(
                    delivery,
                    lane,
                    content=render.running(delivery, progress.percent),
                    attachments=files,
                )

    async def _edit(self, delivery: Delivery, lane: Lane, **edit: object) -> None:
        """A progress edit, at most one per interval per message; dropped as soon as a newer event
        of the job arrives, so the result never waits behind a throttled edit."""
        wait = self._last_edit.get(delivery.job_id, 0.0) + self._interval - time.monotonic()
        if lane.superseded or (wait > 0 and await lane.wait_superseded(wait)):
            return
        await self._poster.edit_waiting(delivery, **edit)
        self._last_edit[delivery.job_id] = time.monotonic()

    async def _deliver(self, delivery: Delivery, done: Done, posted: int | None) -> None:
        if posted is None:
            try:
                message = await self._result(delivery, done)
            except ArtifactExpiredError:
                await self._fail(delivery, "the images expired before they could be posted.", None)
                return
            except (ValueError, OSError, Image.DecompressionBombError):
                log.exception("job %s: the stored result could not be read", delivery.job_id)
                await self._fail(delivery, "the images could not be read back from storage.", None)
                return
            try:
                message_id = await self._poster.post(delivery, **message)
            except discord.HTTPException as error:
                if not refused(error):
                    raise
                log.warning("job %s: Discord refused the result: %s", delivery.job_id, error)
                await self._fail(delivery, f"Discord refused the result message ({error.text}).", None)
                return
            self._metrics.result_delay.observe(max(0.0, time.time() - done.at))
            await asyncio.to_thread(self._deliveries.finish, delivery, message_id)
            log.info("job %s: posted the result as message %s", delivery.job_id, message_id)
        await self._poster.delete_waiting(await self._latest(delivery))
        self._last_edit.pop(delivery.job_id, None)

    async def _result(self, delivery: Delivery, done: Done) -> dict[str, Any]:
        """The result message's content, file and buttons."""
        ref = done.grid or done.images[0]
        data = await asyncio.to_thread(self._artifacts.get, ref.key)
        encoded = await asyncio.to_thread(fit, data, ref.content_type, delivery.attachment_size_limit)
        spoiler = delivery.safety is Safety.SPOILER and bool(done.flagged)
        name = f"{'SPOILER_' * spoiler}{_file_stem(delivery)}.{encoded.extension}"
        blocked = done.flagged if delivery.safety is Safety.BLOCK else ()
        if done.prompts:  # a `/describe` result, with the image it describes
            return {
                "content": render.described(delivery, done.prompts, done.warnings),
                "file": discord.File(io.BytesIO(encoded.data), name),
                "view": buttons.describe_buttons(delivery.job_id, len(done.prompts)),
            }
        view = (
            buttons.grid_buttons(delivery.job_id, blocked)
            if done.grid
            else buttons.upscale_buttons(
                delivery.job_id,
                delivery.parent_url,
                blocked=bool(blocked),
                square=done.images[0].width == done.images[0].height,
            )
        )
        notes = render.flag_notes(delivery.safety, done.flagged, len(done.images))
        return {
            "content": render.finished(delivery, done.warnings + notes, delivery.loras),
            "file": discord.File(io.BytesIO(encoded.data), name),
            "view": view,
        }

    async def _fail(self, delivery: Delivery, reason: str, posted: int | None) -> None:
        """Tells the member the job failed, once: in the waiting message, else in a new message,
        else (the channel refuses the bot) in a message only they see."""
        if posted is not None:
            return
        content = render.failed(delivery, reason)
        view = buttons.retry_buttons(delivery.job_id)
        edited = False
        if delivery.message_id is not None:
            try:
                await self._poster.edit_waiting(delivery, content=content, attachments=[], view=view)
                edited = True
            except discord.HTTPException as error:  # deleted, or refused: say it in a new message
                if not refused(error):
                    raise
        if edited:
            message_id = delivery.message_id
        else:
            try:
                message_id = await self._poster.post(delivery, content=content, file=None, view=view)
            except discord.HTTPException as error:
                if not refused(error):
                    raise
                log.warning("job %s: Discord refused the failure message: %s", delivery.job_id, error)
                message_id = await self._poster.tell_requester(delivery, content)
        await asyncio.to_thread(self._deliveries.finish, delivery, message_id or 0)
        log.info("job %s: failed (%s); told the member in message %s", delivery.job_id, reason, message_id)
        if not edited:
            await self._poster.delete_waiting(await self._latest(delivery))
        self._last_edit.pop(delivery.job_id, None)

    async def _latest(self, delivery: Delivery) -> Delivery:
        """The delivery as recorded now: the waiting message may have been created since it was read
        (a job that finished before the bot's answer). Read after the result marker is set, so either
        this sees the waiting message or the answering side sees the marker and removes it."""
        return await asyncio.to_thread(self._deliveries.get, delivery.job_id) or delivery


def _file_stem(delivery: Delivery) -> str:
    """`imagine_a_red_fox_1a2b3c4d`: the prompt's first words, then the job."""
    words = re.findall(r"[a-z0-9]+", delivery.title.lower().split(" --")[0])
    return "_".join(["imagine", *words][:7])[:60] + f"_{delivery.job_id[:8]}"
