"""`/settings` and `/prefer`: each member's defaults and parameter shortcuts, in any server."""

import asyncio
from collections.abc import Callable

import discord
from discord import app_commands

from bot.replies import tell
from bot.rules import summary
from bot.rules.member import MemberPreferences, Posting
from bot.rules.store import ConfigError, ConfigStore
from jobs import expansion
from jobs.prompt import PromptError, parse_flags
from jobs.specs import Strength
from models.catalog import Catalog

Change = Callable[[MemberPreferences], MemberPreferences]

_QUALITY = [
    app_commands.Choice(name="0.5 (faster, rougher)", value=0.5),
    app_commands.Choice(name="1 (the model's default steps)", value=1.0),
    app_commands.Choice(name="2 (slower, finer)", value=2.0),
]


class Preferences:
    """Reads and changes one member's preferences, answering them privately."""

    def __init__(self, store: ConfigStore, catalog: Catalog, fallback_strength: Strength) -> None:
        self._store = store
        self._catalog = catalog
        self._fallback_strength = fallback_strength

    async def show(self, interaction: discord.Interaction) -> None:
        preferences = await asyncio.to_thread(self._store.member, interaction.user.id)
        await tell(interaction, summary.preferences(preferences, self._fallback_strength))

    async def change(self, interaction: discord.Interaction, change: Change, done: str) -> None:
        preferences = await asyncio.to_thread(self._store.change_member, interaction.user.id, change)
        await tell(interaction, f"{done}\n\n{summary.preferences(preferences, self._fallback_strength)}")

    async def models(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in self._catalog.names if typed.lower() in n][:25]

    def known_model(self, model: str) -> bool:
        return model in self._catalog.names


def add_preference_commands(tree: app_commands.CommandTree, preferences: Preferences) -> None:
    @tree.command(name="settings", description="Your defaults for /imagine (leave all empty to see them)")
    @app_commands.describe(
        model="model used when a prompt names none",
        aspect="aspect ratio used when a prompt gives none, like 3:2",
        quality="quality used when a prompt gives none",
        steps="steps used when a prompt gives none",
        variations="what V1–V4 make",
        posting="where your results go: in the channel, or in your DMs",
        remix="on: V1–V4, 🔄, zooms, pans and Vary (Region) let you change the prompt first",
        reset="forget your settings first (your /prefer options and suffix stay)",
    )
    @app_commands.choices(quality=_QUALITY)
    @app_commands.autocomplete(model=preferences.models)
    async def settings(
        interaction: discord.Interaction,
        model: str | None = None,
        aspect: str | None = None,
        quality: app_commands.Choice[float] | None = None,
        steps: app_commands.Range[int, 1, 150] | None = None,
        variations: Strength | None = None,
        posting: Posting | None = None,
        remix: bool | None = None,
        reset: bool = False,
    ) -> None:
        chosen = {"model": model, "aspect": aspect, "steps": steps, "vary_strength": variations}
        chosen |= {"posting": posting, "remix": remix}
        chosen["quality"] = quality.value if quality else None
        update = {name: value for name, value in chosen.items() if value is not None}
        if not update and not reset:
            await preferences.show(interaction)
            return
        if model is not None and not preferences.known_model(model):
            await tell(interaction, f"There is no model `{model}`: pick one from the list.")
            return
        if aspect is not None:
            try:
                parse_flags(f"--ar {aspect}")
            except PromptError as error:
                await tell(interaction, f"That aspect ratio needs a change: {error}")
                return

        def change(current: MemberPreferences) -> MemberPreferences:
            if reset:
                current = MemberPreferences(options=current.options, suffix=current.suffix)
            return current.model_copy(update=update)

        await preferences.change(interaction, change, "Saved.")

    tree.add_command(PreferCommands(preferences))


class PreferCommands(app_commands.Group):
    option = app_commands.Group(name="option", description="Your own --name shortcuts for sets of flags")

    def __init__(self, preferences: Preferences) -> None:
        super().__init__(name="prefer", description="Your own parameter shortcuts and suffix")
        self._preferences = preferences

    @option.command(name="set", description="Make --name stand for these flags in your prompts")
    @app_commands.describe(name="the shortcut: anime for --anime", flags="like --ar 3:2 --sampler euler_a")
    async def option_set(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 34],
        flags: app_commands.Range[str, 1, expansion.MAX_FLAGS_CHARS],
    ) -> None:
        try:
            name = expansion.check_option(name, flags)
        except PromptError as error:
            await tell(interaction, summary.prompt_problem(error))
            return

        def change(current: MemberPreferences) -> MemberPreferences:
            if name not in current.options and len(current.options) >= expansion.MAX_OPTIONS:
                raise ConfigError(f"you have {expansion.MAX_OPTIONS} options already: remove one first")
            return current.model_copy(update={"options": {**current.options, name: " ".join(flags.split())}})

        await self._preferences.change(interaction, change, f"`--{name}` now stands for `{flags}`.")

    @option.command(name="remove", description="Forget one of your --name shortcuts")
    async def option_remove(self, interaction: discord.Interaction, name: str) -> None:
        name = name.lower().removeprefix("--")

        def change(current: MemberPreferences) -> MemberPreferences:
            if name not in current.options:
                raise ConfigError(f"you have no option `--{name}`")
            options = {key: value for key, value in current.options.items() if key != name}
            return current.model_copy(update={"options": options})

        await self._preferences.change(interaction, change, f"`--{name}` is gone.")

    @app_commands.command(name="suffix", description="Flags added to every prompt (leave empty to remove)")
    async def suffix(
        self,
        interaction: discord.Interaction,
        flags: app_commands.Range[str, 1, expansion.MAX_FLAGS_CHARS] | None = None,
    ) -> None:
        suffix = " ".join((flags or "").split())
        if suffix:
            try:
                expansion.check_flags(suffix)
            except PromptError as error:
                await tell(interaction, summary.prompt_problem(error))
                return
        done = f"Every prompt now ends with `{suffix}`." if suffix else "Your suffix is gone."
        await self._preferences.change(interaction, lambda p: p.model_copy(update={"suffix": suffix}), done)

    @app_commands.command(name="list", description="Your settings, options and suffix")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self._preferences.show(interaction)
