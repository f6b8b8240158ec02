"""`/admin`: a server's rules for the bot, set from Discord by members with Manage Server.

Discord shows the commands only to members with Manage Server (`default_permissions`), but a
server can grant a command to anyone in its integration settings and an interaction can be
made by hand, so every use is checked again here against the member's permissions.
"""

import asyncio
import io
import re
from collections.abc import Callable
from typing import Literal

import discord
from discord import app_commands

from bot.replies import tell
from bot.rules import summary
from bot.rules.guild import GuildConfig
from bot.rules.moderation import fold
from bot.rules.policy import Policy
from bot.rules.store import ConfigError, ConfigStore, read_import
from jobs.aliases import ALIASES_MAX, CODE_PATTERN, CODES_MAX, AliasError, alias_name
from jobs.limits import LORAS_MAX
from jobs.specs import Safety
from models.catalog import Catalog

MAX_IMPORT_BYTES = 256 * 1024
"""An export is a few KB; anything far bigger is the wrong file."""
_AUDIT_SHOWN = 10

Change = Callable[[GuildConfig], GuildConfig]


class AdminCommands(app_commands.Group):
    channels = app_commands.Group(name="channels", description="Where /imagine works")
    limits = app_commands.Group(name="limits", description="How much each member may ask for")
    models = app_commands.Group(name="models", description="Which models members may use")
    loras = app_commands.Group(name="loras", description="Which LoRAs members may use")
    styles = app_commands.Group(name="styles", description="What Midjourney's style codes stand for here")
    roles = app_commands.Group(name="roles", description="Who may use the bot")
    moderation = app_commands.Group(name="moderation", description="What may be drawn")

    def __init__(self, store: ConfigStore, policy: Policy, catalog: Catalog) -> None:
        super().__init__(
            name="admin",
            description="Configure the bot for this server",
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )
        self._store = store
        self._policy = policy
        self._catalog = catalog

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is not None and interaction.permissions.manage_guild:
            return True
        await interaction.response.send_message(
            "Only members with the **Manage Server** permission can change my settings.", ephemeral=True
        )
        return False

    @app_commands.command(name="show", description="The whole configuration")
    async def show(self, interaction: discord.Interaction) -> None:
        config = await self._config(interaction)
        policy = self._policy
        # Off the event loop: the summary compiles the server's patterns to say which are in use.
        text = await asyncio.to_thread(
            summary.guild,
            config,
            policy.offered(config),
            policy.default_model(config),
            policy.offered_loras(config),
            len(self._catalog.loras),
        )
        await tell(interaction, summary.cut(text))

    @channels.command(name="allow", description="Turn /imagine on in a channel, or everywhere")
    @app_commands.describe(channel="leave empty for every channel")
    async def channels_allow(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        channel_id = channel.id if channel else None
        await self._change(
            interaction, lambda c: c.model_copy(update={"channels": c.channels.allow(channel_id)})
        )

    @channels.command(name="deny", description="Turn /imagine off in a channel, or everywhere")
    @app_commands.describe(channel="leave empty for every channel (then allow the ones you want)")
    async def channels_deny(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        channel_id = channel.id if channel else None
        await self._change(
            interaction, lambda c: c.model_copy(update={"channels": c.channels.deny(channel_id)})
        )

    @limits.command(name="set", description="Change one or more limits per member")
    @app_commands.describe(
        running="jobs running at once",
        waiting="jobs waiting to start",
        hourly="jobs started per hour (0: no limit)",
        max_side="largest image width or height in pixels (0: the model's own limit)",
        max_steps="most sampling steps (0: the model's own limit)",
        loras="LoRAs one job may use (0: LoRAs off)",
        turbo_hourly="--turbo jobs started per hour, ahead of the queue (0: turbo off)",
    )
    async def limits_set(
        self,
        interaction: discord.Interaction,
        running: app_commands.Range[int, 1, 50] | None = None,
        waiting: app_commands.Range[int, 1, 500] | None = None,
        hourly: app_commands.Range[int, 0, 10_000] | None = None,
        max_side: app_commands.Range[int, 0, 16_384] | None = None,
        max_steps: app_commands.Range[int, 0, 300] | None = None,
        loras: app_commands.Range[int, 0, LORAS_MAX] | None = None,
        turbo_hourly: app_commands.Range[int, 0, 10_000] | None = None,
    ) -> None:
        given = {"running": running, "waiting": waiting, "loras": loras, "turbo_hourly": turbo_hourly}
        unset_by_zero = {"hourly": hourly, "max_side": max_side, "max_steps": max_steps}
        update = {name: value for name, value in given.items() if value is not None}
        update |= {name: (value or None) for name, value in unset_by_zero.items() if value is not None}
        if not update:
            await tell(interaction, "Give at least one limit to change.")
            return
        await self._change(
            interaction, lambda c: c.model_copy(update={"limits": c.limits.model_copy(update=update)})
        )

    @limits.command(name="reset", description="Every limit back to its default")
    async def limits_reset(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, lambda c: c.model_copy(update={"limits": type(c.limits)()}))

    @models.command(name="offer", description="Let members use a model")
    async def models_offer(self, interaction: discord.Interaction, model: str) -> None:
        if not await self._known_model(interaction, model):
            return

        def offer(config: GuildConfig) -> GuildConfig:
            offered = config.models.offered
            if offered is None:
                return config
            return config.model_copy(
                update={"models": config.models.model_copy(update={"offered": offered | {model}})}
            )

        await self._change(interaction, offer)

    @models.command(name="withdraw", description="Stop offering a model")
    async def models_withdraw(self, interaction: discord.Interaction, model: str) -> None:
        if not await self._known_model(interaction, model):
            return
        config = await self._config(interaction)
        offered = set(self._catalog.names) if config.models.offered is None else set(config.models.offered)
        if offered == {model}:
            await tell(interaction, "That is the last model offered: offer another one first.")
            return

        def withdraw(config: GuildConfig) -> GuildConfig:
            current = set(self._catalog.names) if config.models.offered is None else config.models.offered
            models: dict[str, object] = {"offered": frozenset(current - {model})}
            if config.models.default == model:
                models["default"] = None
            models["aliases"] = {key: value for key, value in config.models.aliases.items() if value != model}
            return config.model_copy(update={"models": config.models.model_copy(update=models)})

        await self._change(interaction, withdraw)

    @models.command(name="all", description="Offer every model the workers serve")
    async def models_all(self, interaction: discord.Interaction) -> None:
        await self._change(
            interaction,
            lambda c: c.model_copy(update={"models": c.models.model_copy(update={"offered": None})}),
        )

    @models.command(name="default", description="The model used when a prompt names none")
    async def models_default(self, interaction: discord.Interaction, model: str) -> None:
        if not await self._known_model(interaction, model):
            return
        config = await self._config(interaction)
        if not config.models.offers(model):
            await tell(interaction, f"`{model}` isn't offered here: `/admin models offer` it first.")
            return
        await self._change(
            interaction,
            lambda c: c.model_copy(update={"models": c.models.model_copy(update={"default": model})}),
        )

    @models.command(name="alias", description="The model a Midjourney prompt's --v or --niji draws with")
    @app_commands.describe(
        name="v7, v6.1, niji or niji6: what --v 7, --v 6.1, --niji or --niji 6 asks for",
        model="leave empty to remove the alias (then the default model draws, with a note)",
    )
    async def models_alias(
        self, interaction: discord.Interaction, name: str, model: str | None = None
    ) -> None:
        try:
            alias = alias_name(name)
        except AliasError as error:
            await tell(interaction, str(error))
            return
        if model is not None:
            if not await self._known_model(interaction, model):
                return
            config = await self._config(interaction)
            if not config.models.offers(model):
                await tell(interaction, f"`{model}` isn't offered here: `/admin models offer` it first.")
                return
        await self._set_entry(interaction, "models", "aliases", alias, model, most=ALIASES_MAX)

    @models.command(name="upscales", description="What U1–U4 make: Subtle or Creative upscales")
    @app_commands.describe(kind="subtle keeps the image as it is; creative may add detail")
    async def models_upscales(
        self, interaction: discord.Interaction, kind: Literal["subtle", "creative"]
    ) -> None:
        creative = kind == "creative"
        await self._change(
            interaction,
            lambda c: c.model_copy(
                update={"models": c.models.model_copy(update={"creative_upscales": creative})}
            ),
        )

    @models_offer.autocomplete("model")
    @models_withdraw.autocomplete("model")
    @models_default.autocomplete("model")
    @models_alias.autocomplete("model")
    async def _model_names(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        names = [name for name in self._catalog.names if typed.lower() in name][:25]
        return [app_commands.Choice(name=name, value=name) for name in names]

    @loras.command(name="offer", description="Let members use a LoRA")
    async def loras_offer(self, interaction: discord.Interaction, lora: str) -> None:
        name = await self._known_lora(interaction, lora)
        if name is None:
            return
        await self._change(
            interaction, _loras(lambda c: None if c.loras.offered is None else c.loras.offered | {name})
        )

    @loras.command(name="withdraw", description="Stop offering a LoRA")
    async def loras_withdraw(self, interaction: discord.Interaction, lora: str) -> None:
        name = await self._known_lora(interaction, lora)
        if name is None:
            return
        every = frozenset(self._catalog.lora_names)
        await self._change(
            interaction, _loras(lambda c: (every if c.loras.offered is None else c.loras.offered) - {name})
        )

    @loras.command(name="all", description="Offer every LoRA in the catalog")
    async def loras_all(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, _loras(lambda _: None))

    @styles.command(name="code", description="The catalog style a Midjourney --sref or --p code draws with")
    @app_commands.describe(
        code="the code members paste, like 2837465 (--sref) or abc123 (--p)",
        style="a catalog style; leave empty to remove the code (then it is noted, as Midjourney's own)",
    )
    async def styles_code(
        self, interaction: discord.Interaction, code: str, style: str | None = None
    ) -> None:
        name = code.strip().lower()
        if not re.fullmatch(CODE_PATTERN, name):
            await tell(interaction, "A code is 1 to 40 letters, digits, `-` or `_`, as Midjourney writes it.")
            return
        if style is not None and style.lower() not in self._catalog.style_names:
            names = ", ".join(f"`{known}`" for known in self._catalog.style_names)
            has = f"It has: {names}" if names else "It has none: the operator adds them as `[[styles]]`."
            await tell(interaction, f"The catalog has no style `{style[:100]}`. {has}")
            return
        await self._set_entry(interaction, "styles", "codes", name, style and style.lower(), most=CODES_MAX)

    @styles_code.autocomplete("style")
    async def _style_names(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        names = [name for name in self._catalog.style_names if typed.lower() in name][:25]
        return [app_commands.Choice(name=name, value=name) for name in names]

    @loras_offer.autocomplete("lora")
    @loras_withdraw.autocomplete("lora")
    async def _lora_names(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        typed = typed.lower()
        found = [lora for lora in self._catalog.loras if typed in f"{lora.name} {lora.description.lower()}"]
        return [
            app_commands.Choice(
                name=summary.cut(" · ".join(filter(None, (lora.name, lora.description))), 100),
                value=lora.name,
            )
            for lora in found[:25]
        ]

    @roles.command(name="allow", description="Members with this role may use the bot (then only they may)")
    async def roles_allow(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self._change(interaction, _roles(lambda r: {"allowed": r.allowed | {role.id}}))

    @roles.command(name="disallow", description="Take a role off the list of roles that may use the bot")
    async def roles_disallow(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self._change(interaction, _roles(lambda r: {"allowed": r.allowed - {role.id}}))

    @roles.command(name="exempt", description="Members with this role have no hourly limit")
    async def roles_exempt(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self._change(interaction, _roles(lambda r: {"exempt": r.exempt | {role.id}}))

    @roles.command(name="unexempt", description="The hourly limit applies to this role again")
    async def roles_unexempt(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self._change(interaction, _roles(lambda r: {"exempt": r.exempt - {role.id}}))

    @moderation.command(
        name="ban", description="Refuse prompts with this word or phrase (any case or accent)"
    )
    async def moderation_ban(
        self, interaction: discord.Interaction, word: app_commands.Range[str, 1, 100]
    ) -> None:
        await self._change(interaction, _moderation(lambda m: {"words": (*m.words, word)}))

    @moderation.command(name="unban", description="Allow a banned word or phrase again")
    async def moderation_unban(self, interaction: discord.Interaction, word: str) -> None:
        folded = " ".join(fold(word).split())
        await self._change(
            interaction, _moderation(lambda m: {"words": tuple(w for w in m.words if w != folded)})
        )

    @moderation.command(name="ban-pattern", description="Refuse prompts matching an RE2 regular expression")
    @app_commands.describe(
        pattern="RE2 syntax (no look-around), matched against the folded prompt, e.g. c[a@]t"
    )
    async def moderation_ban_pattern(
        self, interaction: discord.Interaction, pattern: app_commands.Range[str, 1, 200]
    ) -> None:
        await self._change(interaction, _moderation(lambda m: {"patterns": (*m.patterns, pattern)}))

    @moderation.command(name="unban-pattern", description="Remove a banned pattern")
    async def moderation_unban_pattern(self, interaction: discord.Interaction, pattern: str) -> None:
        await self._change(
            interaction, _moderation(lambda m: {"patterns": tuple(p for p in m.patterns if p != pattern)})
        )

    @moderation.command(name="list", description="The banned words and patterns (only you see them)")
    async def moderation_list(self, interaction: discord.Interaction) -> None:
        listed = await asyncio.to_thread(summary.banned, await self._config(interaction))
        if len(listed) <= summary.MESSAGE_LIMIT:
            await tell(interaction, listed)
            return
        await interaction.response.send_message(
            "The list is too long for a message: here it is as a file.",
            file=discord.File(io.BytesIO(listed.encode()), filename="banned.txt"),
            ephemeral=True,
        )

    @moderation.command(
        name="strict", description="Also catch stand-ins (c4t, c@t) and spaced letters (c a t)"
    )
    @app_commands.describe(setting="on: stricter, and now and then an innocent phrase like `vitamin c a t`")
    async def moderation_strict(
        self, interaction: discord.Interaction, setting: Literal["on", "off"]
    ) -> None:
        await self._change(interaction, _moderation(lambda m: {"strict": setting == "on"}))

    @moderation.command(
        name="nsfw", description="What happens to NSFW images outside age-restricted channels"
    )
    @app_commands.describe(policy="block them, hide them behind a spoiler, or don't check")
    async def moderation_nsfw(self, interaction: discord.Interaction, policy: Safety) -> None:
        await self._change(interaction, _moderation(lambda m: {"nsfw": policy}))

    @app_commands.command(name="export", description="The whole configuration as a JSON file")
    async def export(self, interaction: discord.Interaction) -> None:
        config = await self._config(interaction)
        data = config.model_dump_json(indent=2).encode()
        name = f"imagine-config-{interaction.guild_id}-r{config.revision}.json"
        await interaction.response.send_message(
            f"Configuration, revision {config.revision}. `/admin import` takes this file back.",
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )

    @app_commands.command(name="import", description="Replace the configuration with an exported JSON file")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        if file.size > MAX_IMPORT_BYTES:
            await tell(
                interaction,
                f"That file is {file.size // 1024} KB; an export is a few KB. Is it the right file?",
            )
            return
        try:
            # Off the event loop: parsing compiles the file's patterns.
            raw = await file.read()
            catalog = self._catalog
            imported = await asyncio.to_thread(read_import, raw, catalog.names, catalog.lora_names)
        except (ConfigError, discord.HTTPException) as error:
            await tell(interaction, summary.cut(f"I can't import `{file.filename[:100]}`: {error}"))
            return
        guild = interaction.guild
        kept, dropped = _here(imported, guild) if guild else (imported, 0)
        note = f"\n-# {dropped} channels or roles from the file are not in this server: left out." * bool(
            dropped
        )
        await self._change(interaction, lambda _: kept, note=note)

    @app_commands.command(name="audit", description="Who changed what, and when")
    async def audit(
        self, interaction: discord.Interaction, entries: app_commands.Range[int, 1, 50] = _AUDIT_SHOWN
    ) -> None:
        found = await asyncio.to_thread(self._store.audit, interaction.guild_id or 0, entries)
        await tell(interaction, summary.audit(found))

    async def _config(self, interaction: discord.Interaction) -> GuildConfig:
        return await asyncio.to_thread(self._store.guild, interaction.guild_id or 0)

    async def _change(self, interaction: discord.Interaction, change: Change, *, note: str = "") -> None:
        _, lines = await asyncio.to_thread(
            self._store.change_guild,
            interaction.guild_id or 0,
            interaction.user.id,
            str(interaction.user),
            change,
        )
        await tell(interaction, summary.changes(lines, summary.MESSAGE_LIMIT - len(note)) + note)

    async def _set_entry(
        self,
        interaction: discord.Interaction,
        section: Literal["models", "styles"],
        field: str,
        key: str,
        value: str | None,
        *,
        most: int,
    ) -> None:
        """Sets `key` to `value` in the name mapping `section.field` (`models.aliases`), or removes
        it for None; a new key past `most` entries is refused."""
        current = getattr(getattr(await self._config(interaction), section), field)
        if value is not None and key not in current and len(current) >= most:
            await tell(interaction, f"This server has {most} of these, the most: remove one first.")
            return

        def change(config: GuildConfig) -> GuildConfig:
            part = getattr(config, section)
            entries = {name: kept for name, kept in getattr(part, field).items() if name != key}
            if value is not None:
                entries[key] = value
            return config.model_copy(update={section: part.model_copy(update={field: entries})})

        await self._change(interaction, change)

    async def _known_model(self, interaction: discord.Interaction, model: str) -> bool:
        if model in self._catalog.names:
            return True
        names = ", ".join(f"`{name}`" for name in self._catalog.names)
        await tell(interaction, f"The workers serve no model `{model}`. They serve: {names}")
        return False

    async def _known_lora(self, interaction: discord.Interaction, lora: str) -> str | None:
        """The catalog's name for `lora` (any case), or None once the admin is told it has no such LoRA."""
        if lora.lower() in self._catalog.lora_names:
            return lora.lower()
        names = ", ".join(f"`{name}`" for name in self._catalog.lora_names)
        has = f"It has: {names}" if names else "It has none: the operator adds them as `[[loras]]`."
        await tell(interaction, f"The catalog has no LoRA `{lora[:100]}`. {has}")
        return None


def _roles(update: Callable[..., dict]) -> Change:
    return lambda c: c.model_copy(update={"roles": c.roles.model_copy(update=update(c.roles))})


def _loras(offered: Callable[[GuildConfig], frozenset[str] | None]) -> Change:
    """The LoRAs offered as `offered(config)` says; None: every one in the catalog."""
    return lambda c: c.model_copy(update={"loras": c.loras.model_copy(update={"offered": offered(c)})})


def _moderation(update: Callable[..., dict]) -> Change:
    return lambda c: c.model_copy(update={"moderation": c.moderation.model_copy(update=update(c.moderation))})


def _here(config: GuildConfig, guild: discord.Guild) -> tuple[GuildConfig, int]:
    """`config` without the channels and roles this server does not have, and how many were left out."""
    left_out = 0

    def present(ids: frozenset[int], find: Callable[[int], object]) -> frozenset[int]:
        nonlocal left_out
        kept = frozenset(i for i in ids if find(i) is not None)
        left_out += len(ids) - len(kept)
        return kept

    channels, roles = config.channels, config.roles
    channel, role = guild.get_channel_or_thread, guild.get_role
    update = {
        "channels": channels.model_copy(
            update={
                "allowed": present(channels.allowed, channel),
                "denied": present(channels.denied, channel),
            }
        ),
        "roles": roles.model_copy(
            update={"allowed": present(roles.allowed, role), "exempt": present(roles.exempt, role)}
        ),
    }
    return config.model_copy(update=update), left_out
