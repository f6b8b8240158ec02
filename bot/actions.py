"""What members ask for: a new prompt or a click, turned into a queued job and a waiting message."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import discord
from PIL import Image
from redis import Redis
from redis.exceptions import RedisError

from bot import render
from bot.config.member import Posting
from bot.config.store import ConfigStore
from bot.deliveries import Delivery, DeliveryBook
from bot.metrics import BotMetrics, Outcome, counted
from bot.policy import Asker, Policy, Refusal, Terms
from bot.quotas import Quotas
from bot.replies import UNREACHABLE, tell
from bot.settings import BotSettings
from broker.artifacts import ArtifactStore, image_name
from broker.events import EventLog
from broker.images import cut_image, encode
from broker.logs import job_context
from broker.queues import JobSubmitter, UnknownJobError
from jobs import keys
from jobs.prompt import PromptError, prompt_text
from jobs.resolve import (
    ResolveError,
    image_count,
    image_size,
    imagine_spec,
    new_job_id,
    reroll_spec,
    upscale_spec,
    vary_spec,
)
from jobs.specs import ImageRef, JobSpec, Strength, UpscaleSpec, VarySpec
from models.catalog import Catalog, UnknownModelError

log = logging.getLogger(__name__)


_COPY_LIMIT = 25 * 1024 * 1024
"""Bytes Discord takes in one upload: a larger attachment is not a result the bot posted."""

SpecMaker = Callable[[JobSpec, Terms], Awaitable[tuple[JobSpec, str]]]
"""Builds a follow-up from its source spec and the clicking member's terms: the spec and its label."""


class Actions:
    """Starts jobs for `/imagine` and for the buttons under results; each says how it went."""

    def __init__(
        self, redis: Redis, settings: BotSettings, catalog: Catalog, metrics: BotMetrics | None = None
    ) -> None:
        self.metrics = BotMetrics() if metrics is None else metrics
        self._redis = redis
        self._settings = settings
        self._catalog = catalog
        self._events = EventLog.for_settings(redis, settings)
        self._submitter = JobSubmitter(redis, settings, self._events)
        self._artifacts = ArtifactStore(redis, settings.artifact_ttl)
        self.deliveries = DeliveryBook(redis, settings.artifact_ttl)
        self.config = ConfigStore(redis)
        self.policy = Policy(self.config, Quotas(redis, self.deliveries), catalog)

    @counted("imagine")
    async def imagine(self, interaction: discord.Interaction, prompt: str) -> Outcome:
        try:
            terms = await asyncio.to_thread(self.policy.terms, Asker.of(interaction))
            self.policy.admit(terms)
            parsed = self.policy.prompt(terms, prompt)
            profile = self._catalog.get(parsed.model).profile()
            spec = imagine_spec(parsed, profile, requested_by=str(interaction.user.id))
            spec = await asyncio.to_thread(self.policy.shape, terms, spec)  # banned terms: a few ms
        except (PromptError, UnknownModelError, ResolveError) as error:
            await tell(interaction, f"That prompt needs a change: {error}")
            return Outcome.REFUSED
        except Refusal as error:
            await tell(interaction, str(error))
            return Outcome.REFUSED
        except RedisError:
            log.exception("could not read the rules for /imagine")
            await tell(interaction, UNREACHABLE)
            return Outcome.ERROR
        return await self._start(interaction, spec, terms, title=prompt)

    @counted("upscale")
    async def upscale(self, interaction: discord.Interaction, job_id: str, index: int) -> Outcome:
        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            await self._restore_source(source, index, interaction.message)
            profile = self._catalog.get(source.generation.model).profile()
            spec = upscale_spec(source, index, profile, requested_by=str(terms.asker.member_id))
            return spec, f"Image #{index}"

        grid_url = interaction.message.jump_url if interaction.message else None
        return await self._follow_up(interaction, job_id, make, parent_url=grid_url)

    @counted("vary")
    async def vary(
        self, interaction: discord.Interaction, job_id: str, index: int, strength: Strength | None
    ) -> Outcome:
        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            chosen = strength or terms.preferences.vary_strength or self._settings.vary_strength
            await self._restore_source(source, index, interaction.message)
            profile = self._catalog.get(source.generation.model).profile()
            spec = vary_spec(source, index, chosen, profile, requested_by=str(terms.asker.member_id))
            return spec, f"Variations ({chosen.value.title()}) by"

        return await self._follow_up(interaction, job_id, make)

    @counted("reroll")
    async def reroll(self, interaction: discord.Interaction, job_id: str) -> Outcome:
        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            return reroll_spec(source, requested_by=str(terms.asker.member_id)), ""

        return await self._follow_up(interaction, job_id, make)

    @counted("retry")
    async def retry(self, interaction: discord.Interaction, job_id: str) -> Outcome:
        """The failed job again, with the same parameters and seed; a job that succeeded, or has
        not ended yet, is not run twice."""
        failed = await asyncio.to_thread(self.deliveries.get, job_id)

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            if await asyncio.to_thread(self._events.is_done, job_id):
                raise Refusal("That job succeeded: its images are in the channel. Use their buttons instead.")
            if failed and await asyncio.to_thread(self.deliveries.result_message, job_id) is None:
                raise Refusal("That job hasn't ended yet: its result will appear in the channel.")
            if isinstance(source, UpscaleSpec | VarySpec):
                await self._ensure_stored(source.source)
            requester = str(terms.asker.member_id)
            spec = source.model_copy(update={"job_id": new_job_id(), "requested_by": requester})
            return spec, failed.label if failed else ""

        return await self._follow_up(
            interaction, job_id, make, parent_url=failed.parent_url if failed else None
        )

    async def _follow_up(
        self, interaction: discord.Interaction, job_id: str, make: SpecMaker, *, parent_url: str | None = None
    ) -> Outcome:
        """Builds the follow-up of `job_id` with `make` and starts it; `parent_url` is linked from the
        result (the grid an image was upscaled from)."""
        try:
            if not await self._first_click(interaction):
                return Outcome.REFUSED
            origin = await asyncio.to_thread(self.deliveries.get, job_id)
            terms = await asyncio.to_thread(
                self.policy.terms, Asker.of(interaction), origin.home_guild_id if origin else None
            )
            self.policy.admit(terms)
            source = await asyncio.to_thread(self._submitter.spec, job_id)
            spec, label = await make(source, terms)
            spec = await asyncio.to_thread(self.policy.shape, terms, spec)
        except UnknownJobError:
            await tell(
                interaction, "This job is too old: its settings are no longer kept. Run /imagine again."
            )
            return Outcome.REFUSED
        except (Refusal, ResolveError, UnknownModelError) as error:
            await tell(interaction, str(error))
            return Outcome.REFUSED
        except RedisError:
            log.exception("could not start a follow-up of %s", job_id)
            await tell(interaction, UNREACHABLE)
            return Outcome.ERROR
        return await self._start(
            interaction, spec, terms, title=await self._title(source), label=label, parent_url=parent_url
        )

    async def _start(
        self,
        interaction: discord.Interaction,
        spec: JobSpec,
        terms: Terms,
        *,
        title: str,
        label: str = "",
        parent_url: str | None = None,
    ) -> Outcome:
        """Counts the job against the member's limits, records where the results go, queues the
        job, then answers with the waiting message. What is logged meanwhile names the job.

        Queuing comes first so that no crash can leave a member looking at a waiting message for a
        job that was never queued; a job fast enough to finish before the answer is handled below
        and in the presenter.
        """
        with job_context(spec.job_id):
            return await self._queue(
                interaction, spec, terms, title=title, label=label, parent_url=parent_url
            )

    async def _queue(
        self,
        interaction: discord.Interaction,
        spec: JobSpec,
        terms: Terms,
        *,
        title: str,
        label: str,
        parent_url: str | None,
    ) -> Outcome:
        delivery = Delivery(
            job_id=spec.job_id,
            title=title,
            label=label,
            requester_id=interaction.user.id,
            channel_id=interaction.channel_id or 0,
            guild_id=interaction.guild_id,
            home_guild_id=terms.guild_id,
            application_id=interaction.application_id,
            interaction_token=interaction.token,
            interaction_at=interaction.created_at.timestamp(),
            attachment_size_limit=interaction.filesize_limit,
            parent_url=parent_url,
            direct=interaction.guild_id is not None and terms.preferences.posting is Posting.DM,
            safety=spec.safety,
        )
        try:
            await asyncio.to_thread(self.policy.reserve, terms, spec.job_id)
        except Refusal as error:
            await tell(interaction, str(error))
            return Outcome.REFUSED
        except RedisError:
            log.exception("could not count job %s against the member's limits", spec.job_id)
            await tell(interaction, UNREACHABLE)
            return Outcome.ERROR
        try:
            await asyncio.to_thread(self.deliveries.save, delivery)
            queued = await asyncio.to_thread(
                self._submitter.submit, spec, concurrency=terms.config.limits.running
            )
        except RedisError:
            log.exception("could not queue job %s", spec.job_id)
            with contextlib.suppress(RedisError):
                await asyncio.to_thread(self.policy.release, terms, spec.job_id)
            await tell(interaction, UNREACHABLE)
            return Outcome.ERROR
        delivery = delivery.model_copy(update={"position": queued.position})
        response = await interaction.response.send_message(
            render.waiting(delivery), allowed_mentions=render.mentions(delivery), ephemeral=delivery.direct
        )
        delivery = delivery.model_copy(update={"message_id": response.message_id})
        try:
            await asyncio.to_thread(self.deliveries.save, delivery)
            result = await asyncio.to_thread(self.deliveries.result_message, spec.job_id)
        except RedisError:  # the job is queued and answered: the result finds `@original` itself
            log.warning("could not record the waiting message of job %s", spec.job_id, exc_info=True)
            return Outcome.QUEUED
        if result is not None and result != response.message_id:  # done before we answered
            await interaction.delete_original_response()
        return Outcome.QUEUED

    async def _first_click(self, interaction: discord.Interaction) -> bool:
        """False (and the member is told) when the same member clicked the same button moments ago."""
        custom_id = (interaction.data or {}).get("custom_id", "")
        key = f"{keys.PREFIX}:click:{interaction.user.id}:{custom_id}"
        window = max(1, round(self._settings.click_window))
        if await asyncio.to_thread(self._redis.set, key, 1, nx=True, ex=window):
            return True
        await tell(interaction, "Already on it: your click a moment ago started that job.")
        return False

    async def _title(self, source: JobSpec) -> str:
        delivery = await asyncio.to_thread(self.deliveries.get, source.job_id)
        return delivery.title if delivery else prompt_text(source.generation.prompt)

    async def _restore_source(self, source: JobSpec, index: int, message: discord.Message | None) -> None:
        """Makes sure image `index` of `source` is stored: once expired, it is cut from the message's
        attachment (the grid, or the single upscaled image)."""
        ref = ImageRef(job_id=source.job_id, index=index)
        if await self._stored(ref):
            return
        attachment = message.attachments[0] if message and message.attachments else None
        if attachment is None:
            raise Refusal("The image behind this button has expired, and this message has no copy of it.")
        if attachment.size > _COPY_LIMIT:
            raise Refusal("The image behind this button has expired, and the copy here is not one I posted.")
        try:
            data = await attachment.read()
        except (discord.HTTPException, OSError) as error:
            raise Refusal(
                "The image behind this button has expired and could not be downloaded again."
            ) from error
        try:
            await asyncio.to_thread(self._store_tile, source, index, data)
        except (OSError, ValueError, Image.DecompressionBombError) as error:  # unreadable, or too big
            raise Refusal(
                "The image behind this button has expired, and the copy here is unreadable."
            ) from error

    async def _ensure_stored(self, ref: ImageRef) -> None:
        if not await self._stored(ref):
            raise Refusal("The image this job started from has expired: click its button again.")

    async def _stored(self, ref: ImageRef) -> bool:
        key = keys.artifact_key(ref.job_id, image_name(ref.index))
        return bool(await asyncio.to_thread(self._redis.exists, key))

    def _store_tile(self, source: JobSpec, index: int, data: bytes) -> None:
        count, size = image_count(source), image_size(source)
        posted = (size[0] * 2, size[1] * 2) if count > 1 else size  # the grid, or the one image
        image = cut_image(data, index, count, largest=posted)
        if image.size != size:  # the posted copy was shrunk to fit Discord's upload limit
            image = image.resize(size)
        encoded = encode(image)
        self._artifacts.put(
            source.job_id,
            image_name(index),
            encoded.data,
            content_type=encoded.content_type,
            width=image.width,
            height=image.height,
        )
