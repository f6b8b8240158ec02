"""What members ask for: a new prompt or a click, turned into a queued job and a waiting message.

A request that cannot be served raises a `MemberError` (or a `RedisError`); `bot.replies` turns it
into the member's answer, and `counted` into the metric's outcome.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import discord
from redis import Redis
from redis.exceptions import RedisError

from bot.delivery import render
from bot.delivery.deliveries import Delivery, DeliveryBook
from bot.metrics import BotMetrics, Outcome, counted
from bot.requests import forms
from bot.requests.sources import SourceImages
from bot.requests.uploads import Given, Uploads, Wanted
from bot.rules.member import Posting
from bot.rules.policy import Asker, Policy, Refusal, Terms
from bot.settings import BotSettings
from broker.events import EventLog
from broker.logs import job_context
from broker.queues import JobSubmitter
from jobs import custom_ids, keys, limits
from jobs.expansion import expand
from jobs.prompt import ParsedPrompt, parse_prompt, prompt_text
from jobs.resolve import (
    Remix,
    blend_profile,
    blend_spec,
    describe_spec,
    imagine_specs,
    pan_spec,
    random_seed,
    region_spec,
    remix_prompt,
    remixed,
    reroll_spec,
    retry_spec,
    square_spec,
    style_links,
    upscale_spec,
    vary_spec,
    zoom_spec,
)
from jobs.specs import (
    DescribeSpec,
    Direction,
    ImageRef,
    ImageSpec,
    JobSpec,
    Strength,
    UploadRef,
    UpscaleSpec,
)
from models.catalog import Catalog

log = logging.getLogger(__name__)

DESCRIBE_TITLE = "/describe"
BLEND_TITLE = "/blend"


SpecMaker = Callable[[JobSpec, Terms], Awaitable[tuple[JobSpec, str]]]
"""Builds a follow-up from its source spec and the clicking member's terms: the spec and its label.
Only a retry is given a source that made no images (`ImageSpec`)."""


class Actions:
    """Starts jobs for `/imagine` and for the buttons under results; each says how it went."""

    def __init__(
        self,
        redis: Redis,
        settings: BotSettings,
        catalog: Catalog,
        *,
        policy: Policy,
        submitter: JobSubmitter,
        events: EventLog,
        deliveries: DeliveryBook,
        sources: SourceImages,
        uploads: Uploads,
        metrics: BotMetrics,
    ) -> None:
        self.metrics = metrics
        self._redis = redis
        self._settings = settings
        self._catalog = catalog
        self._policy = policy
        self._submitter = submitter
        self._events = events
        self._deliveries = deliveries
        self._sources = sources
        self._uploads = uploads

    @counted("imagine")
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: str,
        attachments: Sequence[discord.Attachment] = (),
        style: discord.Attachment | None = None,
    ) -> Outcome:
        """A grid per `{…}` combination of the prompt and per `--repeat`: all queued, or none. Images
        the member attached or linked (image prompts at the start of the prompt, `--sref` links, the
        `style` attachment) are fetched and stored first."""
        terms = await asyncio.to_thread(self._policy.terms, Asker.of(interaction))
        self._policy.admit(terms)
        seed, member = random_seed(), str(interaction.user.id)
        prompts = self._policy.prompts(terms, prompt)
        wanted = [self._wanted(parsed, attachments, style) for _, parsed in prompts]
        async with self._deferred(interaction, terms, any(each.images or each.styles for each in wanted)):
            stored = await self._uploads.store_each(wanted)
            made = [
                (title, spec)
                for (title, parsed), (images, style_images) in zip(prompts, stored, strict=True)
                for spec in imagine_specs(
                    parsed,
                    self._catalog,
                    seed=seed,
                    requested_by=member,
                    images=images,
                    style_images=style_images,
                )
            ]
            shaped = await asyncio.to_thread(  # banned terms: a few ms a job
                lambda: [(title, self._policy.shape(terms, spec)) for title, spec in made]
            )
            jobs = [
                (spec, self._delivery(interaction, terms, spec, title=title, followup=n > 0))
                for n, (title, spec) in enumerate(shaped)
            ]
            return await self._start(interaction, terms, jobs)

    def _wanted(
        self,
        parsed: ParsedPrompt,
        attachments: Sequence[discord.Attachment],
        style: discord.Attachment | None,
    ) -> Wanted:
        """The images one of a prompt's combinations draws on: the attachments, then its own links."""
        images = [*map(_attached, attachments), *map(_linked, parsed.image_urls)]
        if len(images) > limits.IMAGE_PROMPTS_MAX:
            raise Refusal(
                f"That's {len(images)} images: a prompt can start from at most {limits.IMAGE_PROMPTS_MAX}."
            )
        links = style_links(parsed, self._catalog, attached=style is not None)
        return Wanted(images, [*([_attached(style)] if style else []), *map(_linked, links)])

    @counted("blend")
    async def blend(
        self, interaction: discord.Interaction, attachments: Sequence[discord.Attachment], dimensions: str
    ) -> Outcome:
        """`/blend`: a grid from 2-5 attached images, through the server's default model's adapter."""
        terms = await asyncio.to_thread(self._policy.terms, Asker.of(interaction))
        self._policy.admit(terms)
        model = self._policy.default_model(terms.config)
        blend_profile(self._catalog, model, len(attachments))  # before anything is fetched
        async with self._deferred(interaction, terms, True):
            images = await self._uploads.store([_attached(attachment) for attachment in attachments])
            spec = blend_spec(
                images,
                self._catalog,
                dimensions=dimensions,
                model=model,
                requested_by=str(interaction.user.id),
            )
            spec = await asyncio.to_thread(self._policy.shape, terms, spec)
            delivery = self._delivery(interaction, terms, spec, title=BLEND_TITLE)
            return await self._start(interaction, terms, [(spec, delivery)])

    @counted("describe")
    async def describe(
        self, interaction: discord.Interaction, attachment: discord.Attachment | None, link: str | None
    ) -> Outcome:
        """`/describe`: four prompts written from the image (an attachment, or a link to one), by the
        captioner of the server's default model."""
        if (attachment is None) == (link is None):
            raise Refusal("Give one image to describe: attach it, or paste a link to it.")
        terms = await asyncio.to_thread(self._policy.terms, Asker.of(interaction))
        self._policy.admit(terms)
        model = self._policy.captioning_model(terms.config)
        async with self._deferred(interaction, terms, True):
            (image,) = await self._uploads.store(
                [_attached(attachment) if attachment else _linked(link or "")]
            )
            return await self._describe(interaction, terms, model, image)

    @counted("describe")
    async def describe_again(self, interaction: discord.Interaction, job_id: str) -> Outcome:
        """🔄 under a `/describe` result: other prompts for the same image."""
        await self._first_click(interaction)
        terms = await self._admitted(interaction, job_id)
        source = await asyncio.to_thread(self._submitter.spec, job_id)
        if not isinstance(source, DescribeSpec):
            raise Refusal("That message is not a /describe result.")
        await self._sources.restore_upload(source.image, interaction.message)
        return await self._describe(interaction, terms, source.model, source.image)

    async def imagine_described(
        self, interaction: discord.Interaction, job_id: str, index: int, *, prompt: str | None = None
    ) -> Outcome:
        """Prompt `index` (1-4) of a `/describe` result `/imagine`d; with Remix on, the member edits
        it first (then `prompt` is what they submitted)."""
        if prompt is None:
            message = interaction.message
            prompt = render.described_prompt(message.content, index) if message else None
            if prompt is None:
                raise Refusal("That message has no such prompt: run /describe again.")
            if await self._ask_first(interaction, job_id, f"Remix · Prompt {index}", prompt=prompt):
                return Outcome.ANSWERED
        await self._first_click(interaction)
        return await self.imagine(interaction, prompt)

    async def _describe(
        self, interaction: discord.Interaction, terms: Terms, model: str, image: UploadRef
    ) -> Outcome:
        spec = describe_spec(model, image, requested_by=str(terms.asker.member_id))
        spec = await asyncio.to_thread(self._policy.shape, terms, spec)
        delivery = self._delivery(interaction, terms, spec, title=DESCRIBE_TITLE)
        return await self._start(interaction, terms, [(spec, delivery)])

    @counted("upscale")
    async def upscale(
        self, interaction: discord.Interaction, job_id: str, index: int, mode: str | None = None
    ) -> Outcome:
        """U1–U4 (the server's kind of upscale), or Upscale (Subtle/Creative) under an upscaled image,
        which upscales the grid image it came from again, that way."""

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            creative = terms.config.models.creative_upscales if mode is None else mode == "creative"
            grid, number = source, index
            if isinstance(source, UpscaleSpec):
                await self._sources.ensure_stored(source.source)
                grid = await self._image_source(source.source.job_id)
                number = source.source.index
            else:
                await self._sources.restore(source, index, interaction.message)
            profile = self._catalog.get(grid.generation.model).profile()
            member = str(terms.asker.member_id)
            spec = upscale_spec(grid, number, profile, creative=creative, requested_by=member)
            return spec, f"Image #{number}{' (Creative)' if creative else ''}"

        grid_url = interaction.message.jump_url if interaction.message else None
        return await self._follow_up(interaction, job_id, make, parent_url=grid_url)

    @counted("vary")
    async def vary(
        self,
        interaction: discord.Interaction,
        job_id: str,
        index: int,
        strength: Strength | None,
        *,
        prompt: str | None = None,
    ) -> Outcome:
        if prompt is None and await self._ask_first(interaction, job_id, "Remix · Vary"):
            return Outcome.ANSWERED

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            chosen = strength or terms.preferences.vary_strength or self._settings.vary_strength
            await self._sources.restore(source, index, interaction.message)
            profile = self._catalog.get(source.generation.model).profile()
            remix, member = self._remix(source, prompt, terms), str(terms.asker.member_id)
            spec = vary_spec(source, index, chosen, profile, remix=remix, requested_by=member)
            return spec, f"Variations ({chosen.value.title()}) by"

        return await self._follow_up(interaction, job_id, make)

    @counted("reroll")
    async def reroll(
        self, interaction: discord.Interaction, job_id: str, *, prompt: str | None = None
    ) -> Outcome:
        if prompt is None and await self._ask_first(interaction, job_id, "Remix · Reroll"):
            return Outcome.ANSWERED

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            remix = self._remix(source, prompt, terms)
            return reroll_spec(source, remix=remix, requested_by=str(terms.asker.member_id)), ""

        return await self._follow_up(interaction, job_id, make)

    @counted("zoom")
    async def zoom(
        self,
        interaction: discord.Interaction,
        job_id: str,
        index: int,
        factor: str | None,
        *,
        prompt: str | None = None,
    ) -> Outcome:
        """Zoom Out by `factor` (as typed); None (Custom Zoom) asks for it first."""
        custom = factor is None
        title = "Custom Zoom" if custom else "Remix · Zoom Out"
        if prompt is None and await self._ask_first(interaction, job_id, title, always=custom, factor=custom):
            return Outcome.ANSWERED
        try:
            times = float(factor or "")
        except ValueError:
            raise Refusal(
                f"Zoom out by a number from {limits.ZOOM_MIN:g} to {limits.ZOOM_MAX:g}, like 1.5."
            ) from None

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            await self._sources.restore(source, index, interaction.message)
            remix, member = self._remix(source, prompt, terms), str(terms.asker.member_id)
            return zoom_spec(
                source, index, times, remix=remix, requested_by=member
            ), f"Zoom Out {times:g}× by"

        return await self._follow_up(interaction, job_id, make)

    @counted("pan")
    async def pan(
        self,
        interaction: discord.Interaction,
        job_id: str,
        index: int,
        direction: Direction,
        *,
        prompt: str | None = None,
    ) -> Outcome:
        if prompt is None and await self._ask_first(interaction, job_id, f"Remix · Pan {direction.value}"):
            return Outcome.ANSWERED

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            await self._sources.restore(source, index, interaction.message)
            profile = self._catalog.get(source.generation.model).profile()
            remix, member = self._remix(source, prompt, terms), str(terms.asker.member_id)
            spec = pan_spec(source, index, direction, profile, remix=remix, requested_by=member)
            return spec, f"Pan {direction.value} by"

        return await self._follow_up(interaction, job_id, make)

    @counted("square")
    async def square(self, interaction: discord.Interaction, job_id: str, index: int) -> Outcome:
        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            await self._sources.restore(source, index, interaction.message)
            profile = self._catalog.get(source.generation.model).profile()
            return square_spec(source, index, profile, requested_by=str(terms.asker.member_id)), "Square by"

        return await self._follow_up(interaction, job_id, make)

    @counted("region")
    async def region_menu(
        self, interaction: discord.Interaction, job_id: str, index: int, parts: discord.ui.View
    ) -> Outcome:
        """Vary (Region)'s first step: the `parts` of the image to pick from, for the clicking member
        alone. The image is kept now, from this message if it has expired, for the job they start."""
        await self._admitted(interaction, job_id)  # before any download for a member kept out
        source = await self._image_source(job_id)
        await self._sources.restore(source, index, interaction.message)
        await interaction.response.send_message(
            f"Which parts of image #{index} should be repainted? The rest stays as it is.",
            view=parts,
            ephemeral=True,
        )
        return Outcome.ANSWERED

    @counted("region")
    async def region_form(
        self, interaction: discord.Interaction, job_id: str, index: int, cells: frozenset[int]
    ) -> Outcome:
        """Vary (Region)'s second step: the prompt for the chosen cells."""
        if not cells:
            raise Refusal("Pick at least one part of the image to repaint.")
        source = await self._image_source(job_id)
        custom_id = custom_ids.region_prompt(job_id, index, cells)
        form = forms.prompt_form(custom_id, "Vary (Region)", remix_prompt(source.generation))
        await interaction.response.send_modal(form)
        return Outcome.ANSWERED

    @counted("region")
    async def region(
        self, interaction: discord.Interaction, job_id: str, index: int, cells: frozenset[int], *, prompt: str
    ) -> Outcome:
        """Vary (Region): the cells of image `index` repainted with `prompt`."""

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            await self._sources.ensure_stored(ImageRef(job_id=source.job_id, index=index))
            remix, member = self._remix(source, prompt, terms), str(terms.asker.member_id)
            return region_spec(source, index, cells, remix=remix, requested_by=member), "Vary (Region) by"

        return await self._follow_up(interaction, job_id, make)

    @counted("retry")
    async def retry(self, interaction: discord.Interaction, job_id: str) -> Outcome:
        """The failed job again, with the same parameters and seed; a job that succeeded, or has
        not ended yet, is not run twice."""
        failed = await asyncio.to_thread(self._deliveries.get, job_id)

        async def make(source: JobSpec, terms: Terms) -> tuple[JobSpec, str]:
            if await asyncio.to_thread(self._events.is_done, job_id):
                raise Refusal("That job succeeded: its images are in the channel. Use their buttons instead.")
            if failed and await asyncio.to_thread(self._deliveries.result_message, job_id) is None:
                raise Refusal("That job hasn't ended yet: its result will appear in the channel.")
            await self._sources.ensure_inputs(source)
            spec = retry_spec(source, requested_by=str(terms.asker.member_id))
            return spec, failed.label if failed else ""

        return await self._follow_up(
            interaction, job_id, make, parent_url=failed.parent_url if failed else None, images_only=False
        )

    async def _ask_first(
        self,
        interaction: discord.Interaction,
        job_id: str,
        title: str,
        *,
        always: bool = False,
        factor: bool = False,
        prompt: str | None = None,
    ) -> bool:
        """Opens the follow-up's modal, filled in with `prompt` or else the source's, when the member
        has Remix on (or `always`): True when it did. The follow-up starts when they submit it
        (`buttons.submit`)."""
        if not always:
            terms = await asyncio.to_thread(self._policy.terms, Asker.of(interaction))
            if not terms.preferences.remix:
                return False
        if prompt is None:
            prompt = remix_prompt((await self._image_source(job_id)).generation)
        custom_id = custom_ids.remix((interaction.data or {}).get("custom_id", ""))
        form = forms.prompt_form(custom_id, title, prompt, factor=factor)
        await interaction.response.send_modal(form)
        return True

    def _remix(self, source: JobSpec, prompt: str | None, terms: Terms) -> Remix | None:
        """The follow-up's new prompt, with the member's `/prefer` shortcuts, resolved; None when they
        gave none. (Their suffix and settings are not applied: the follow-up keeps its source's.)"""
        if prompt is None:
            return None
        return remixed(
            source.generation, parse_prompt(expand(prompt, terms.preferences.options)), self._catalog
        )

    async def _follow_up(
        self,
        interaction: discord.Interaction,
        job_id: str,
        make: SpecMaker,
        *,
        parent_url: str | None = None,
        images_only: bool = True,
    ) -> Outcome:
        """Builds the follow-up of `job_id` with `make` and starts it; `parent_url` is linked from the
        result (the grid an image was upscaled from). With `images_only`, `job_id` must have made images."""
        await self._first_click(interaction)
        terms = await self._admitted(interaction, job_id)
        if images_only:
            source: JobSpec = await self._image_source(job_id)
        else:
            source = await asyncio.to_thread(self._submitter.spec, job_id)
        spec, label = await make(source, terms)
        spec = await asyncio.to_thread(self._policy.shape, terms, spec)
        title = await self._title(source)
        delivery = self._delivery(interaction, terms, spec, title=title, label=label, parent_url=parent_url)
        return await self._start(interaction, terms, [(spec, delivery)])

    async def _image_source(self, job_id: str) -> ImageSpec:
        """The job a button under its images names: one that made images."""
        source = await asyncio.to_thread(self._submitter.spec, job_id)
        if isinstance(source, DescribeSpec):
            raise Refusal("That job wrote prompts and made no images: use the buttons under its result.")
        return source

    @contextlib.asynccontextmanager
    async def _deferred(
        self, interaction: discord.Interaction, terms: Terms, defer: bool
    ) -> AsyncIterator[None]:
        """With `defer`, acknowledges the interaction at once, where its waiting message will be
        (fetching images may take longer than Discord's 3 s). A request refused after that has the
        placeholder removed, so the refusal, sent privately, is all that remains."""
        if not defer:
            yield
            return
        direct = interaction.guild_id is not None and terms.preferences.posting is Posting.DM
        await interaction.response.defer(ephemeral=direct, thinking=True)
        try:
            yield
        except Exception:
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            raise

    async def _admitted(self, interaction: discord.Interaction, job_id: str) -> Terms:
        """The clicking member's terms, in the server `job_id` came from for a click in a DM; refuses
        a member the server's rules keep out."""
        origin = await asyncio.to_thread(self._deliveries.get, job_id)
        terms = await asyncio.to_thread(
            self._policy.terms, Asker.of(interaction), origin.home_guild_id if origin else None
        )
        self._policy.admit(terms)
        return terms

    def _delivery(
        self,
        interaction: discord.Interaction,
        terms: Terms,
        spec: JobSpec,
        *,
        title: str,
        label: str = "",
        parent_url: str | None = None,
        followup: bool = False,
    ) -> Delivery:
        """Where the job's messages go: the interaction's channel, or the member's DMs."""
        return Delivery(
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
            followup=followup,
            direct=interaction.guild_id is not None and terms.preferences.posting is Posting.DM,
            safety=spec.safety,
            loras=() if isinstance(spec, DescribeSpec) else spec.generation.loras,
        )

    async def _start(
        self, interaction: discord.Interaction, terms: Terms, jobs: Sequence[tuple[JobSpec, Delivery]]
    ) -> Outcome:
        """Counts the jobs against the member's limits (all of them, or refuses them all), records
        where each one's results go, queues them, then answers with a waiting message for each: the
        interaction's response for the first, a follow-up message for the others. What is logged
        meanwhile names the job.

        Queuing comes first so that no crash can leave a member looking at a waiting message for a
        job that was never queued; a job fast enough to finish before the answer is handled below
        and in the presenter.
        """
        job_ids = [spec.job_id for spec, _ in jobs]
        specs = await asyncio.to_thread(self._policy.reserve, terms, [spec for spec, _ in jobs])
        jobs = [(spec, delivery) for spec, (_, delivery) in zip(specs, jobs, strict=True)]
        queued: list[Delivery] = []
        try:
            for spec, delivery in jobs:
                with job_context(spec.job_id):
                    queued.append(await asyncio.to_thread(self._queue, spec, delivery, terms))
        except RedisError:  # what `reserve` counted for the jobs never queued is given back
            with contextlib.suppress(RedisError):
                await asyncio.to_thread(self._policy.release, terms, job_ids[len(queued) :])
            raise
        for delivery in queued:
            with job_context(delivery.job_id):
                await self._answer(interaction, delivery)
        return Outcome.QUEUED

    def _queue(self, spec: JobSpec, delivery: Delivery, terms: Terms) -> Delivery:
        """Records the delivery and queues the job; returns the delivery with its place in the queue."""
        self._deliveries.save(delivery)
        queued = self._submitter.submit(spec, concurrency=terms.config.limits.running)
        return delivery.model_copy(update={"position": queued.position})

    async def _answer(self, interaction: discord.Interaction, delivery: Delivery) -> None:
        """Sends the job's waiting message and records it, or deletes it if the result is already posted."""
        send = {"allowed_mentions": render.mentions(delivery), "ephemeral": delivery.direct}
        if delivery.followup:
            try:
                message = await interaction.followup.send(render.waiting(delivery), wait=True, **send)
            except discord.HTTPException:  # the result is posted in the channel all the same
                log.warning("could not send the waiting message of job %s", delivery.job_id, exc_info=True)
                return
            message_id = message.id
        elif interaction.response.is_done():  # deferred while the member's images were fetched
            message = await interaction.edit_original_response(
                content=render.waiting(delivery), allowed_mentions=send["allowed_mentions"]
            )
            message_id = message.id
        else:
            response = await interaction.response.send_message(render.waiting(delivery), **send)
            message_id = response.message_id
        delivery = delivery.model_copy(update={"message_id": message_id})
        try:
            await asyncio.to_thread(self._deliveries.save, delivery)
            result = await asyncio.to_thread(self._deliveries.result_message, delivery.job_id)
        except RedisError:  # the job is queued and answered: the result finds `@original` itself
            log.warning("could not record the waiting message of job %s", delivery.job_id, exc_info=True)
            return
        if result is not None and result != message_id:  # done before we answered
            if delivery.followup:
                await interaction.followup.delete_message(message_id)
            else:
                await interaction.delete_original_response()

    async def _first_click(self, interaction: discord.Interaction) -> None:
        """Refuses the same member's click on the same button moments after the first. A submitted
        form is never a double click: Discord closes it, and the member typed the next one anew."""
        if interaction.type is discord.InteractionType.modal_submit:
            return
        custom_id = (interaction.data or {}).get("custom_id", "")
        key = keys.click_key(interaction.user.id, custom_id)
        window = max(1, round(self._settings.click_window))
        if not await asyncio.to_thread(self._redis.set, key, 1, nx=True, ex=window):
            raise Refusal("Already on it: your click a moment ago started that job.")

    async def _title(self, source: JobSpec) -> str:
        delivery = await asyncio.to_thread(self._deliveries.get, source.job_id)
        if delivery:
            return delivery.title
        return DESCRIBE_TITLE if isinstance(source, DescribeSpec) else prompt_text(source.generation.prompt)


def _attached(attachment: discord.Attachment) -> Given:
    return Given(attachment.url, f"the attachment `{attachment.filename}`", attachment.size)


def _linked(url: str) -> Given:
    return Given(url, f"the link {url[:80]}")
