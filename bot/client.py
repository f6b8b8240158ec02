"""The discord.py client: commands, persistent buttons and the event consumer in one process.

The composition root: `ImagineBot` builds each collaborator once and hands it to those that use it.
"""

import asyncio
import logging

import discord
from discord import app_commands
from redis import Redis

from bot.commands.admin import AdminCommands
from bot.commands.imagine import add_imagine_command
from bot.commands.info import add_info_command
from bot.commands.preferences import Preferences, add_preference_commands
from bot.delivery.consumer import EventConsumer
from bot.delivery.deliveries import DeliveryBook
from bot.delivery.poster import Poster
from bot.delivery.presenter import Presenter
from bot.metrics import BotMetrics, Outcome
from bot.replies import answer_error, tell
from bot.requests.actions import Actions
from bot.requests.buttons import BUTTONS, UNKNOWN_BUTTON, serves, submit
from bot.requests.fetch import FetchRules, ImageFetcher
from bot.requests.sources import SourceImages
from bot.requests.uploads import Uploads
from bot.rules.policy import Policy
from bot.rules.quotas import Quotas
from bot.rules.store import ConfigStore
from bot.settings import BotSettings
from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.queues import JobSubmitter
from jobs.errors import MemberError
from models.catalog import Catalog

log = logging.getLogger(__name__)


JOB_COMMANDS = frozenset({"imagine", "describe", "blend"})
"""Commands that start jobs: `Actions` counts them, with the outcome it knows."""


class CommandTree(app_commands.CommandTree):
    def __init__(self, client: "ImagineBot") -> None:
        super().__init__(client)
        self.metrics = client.metrics

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        # A check that answered has told the member why.
        checked = isinstance(error, app_commands.CheckFailure) and interaction.response.is_done()
        refused = checked or isinstance(getattr(error, "original", error), MemberError)
        if name not in JOB_COMMANDS:
            self.metrics.interaction(name, Outcome.REFUSED if refused else Outcome.ERROR)
        if not checked:
            await answer_error(interaction, error)


class ImagineBot(discord.Client):
    def __init__(
        self,
        settings: BotSettings,
        redis: Redis,
        catalog: Catalog,
        *,
        metrics: BotMetrics | None = None,
        **options: object,
    ) -> None:
        # No message content or member intents: everything arrives as interactions.
        super().__init__(
            intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none(), **options
        )
        self.settings = settings
        self.metrics = BotMetrics() if metrics is None else metrics
        self.tree = CommandTree(self)
        events = EventLog.for_settings(redis, settings)
        artifacts = ArtifactStore(redis, settings.artifact_ttl)
        deliveries = DeliveryBook(redis, settings.artifact_ttl)
        config = ConfigStore(redis)
        policy = Policy(config, Quotas(redis, deliveries), catalog)
        rules = FetchRules(
            origins=tuple(settings.cdn_origins),
            max_bytes=settings.upload_max_bytes,
            max_pixels=settings.upload_max_pixels,
            private_ok=settings.cdn_private_ok,
        )
        self._uploads = Uploads(ImageFetcher(rules), artifacts)
        self.actions = Actions(
            redis,
            settings,
            catalog,
            policy=policy,
            submitter=JobSubmitter(redis, settings, events),
            events=events,
            deliveries=deliveries,
            sources=SourceImages(artifacts),
            uploads=self._uploads,
            metrics=self.metrics,
        )
        """What the buttons under results call (`bot.requests.buttons`)."""
        add_imagine_command(self.tree, self.actions)
        add_info_command(self.tree, redis, catalog, policy, deliveries)
        self.tree.add_command(AdminCommands(config, policy, catalog))
        add_preference_commands(self.tree, Preferences(config, catalog, settings.vary_strength))
        presenter = Presenter(
            Poster(self), deliveries, artifacts, interval=settings.progress_interval, metrics=self.metrics
        )
        self._consumer = EventConsumer(redis, presenter.present, consumer=settings.consumer_name)
        self._consuming: asyncio.Task | None = None
        self.failed = False
        """Whether the bot stopped because a part of it failed (its exit status says so)."""

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*BUTTONS)
        await self._sync_commands()
        self._consuming = asyncio.create_task(self._consumer.run(), name="event-consumer")
        self._consuming.add_done_callback(self._consumer_stopped)

    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command | app_commands.ContextMenu
    ) -> None:
        if command.qualified_name not in JOB_COMMANDS:
            self.metrics.interaction(command.qualified_name, Outcome.ANSWERED)

    async def close(self) -> None:
        if self._consuming:
            self._consuming.cancel()
        await self._uploads.close()
        await super().close()

    async def _sync_commands(self) -> None:
        """Development guilds get the commands at once; otherwise they are registered globally."""
        for guild_id in self.settings.dev_guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not self.settings.dev_guild_ids:
            await self.tree.sync()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Answers a click that none of our buttons will: a custom_id we never made, or one that is
        not on the clicked message (a hand-made interaction). Discord would say "This interaction
        failed"; the member reads why instead. A follow-up's modal submitted starts the follow-up."""
        if interaction.type is discord.InteractionType.component and not serves(interaction):
            await tell(interaction, UNKNOWN_BUTTON)
        elif interaction.type is discord.InteractionType.modal_submit:
            await submit(interaction)

    def _consumer_stopped(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception():
            log.error("the event consumer stopped", exc_info=task.exception())
            self.failed = True
            asyncio.get_running_loop().create_task(self.close())
