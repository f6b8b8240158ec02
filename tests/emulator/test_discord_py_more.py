"""The real discord.py against the emulator: age-restricted channels, subcommand groups, who Discord's
client offers a command to (and forged interactions that bypass it), attachment options, and DMs."""

import io
import re
from collections.abc import Awaitable, Callable

import discord
import pytest
from discord import app_commands

from emulator import DiscordEmulator, Interaction, Upload
from emulator.permissions import ADMINISTRATOR
from tests.emulator.harness import eventually, png, run_scenario

MANAGE_GUILD = 1 << 5


class DmButton(discord.ui.DynamicItem[discord.ui.Button], template=r"dm:(?P<n>\d+)"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label="Again", custom_id=f"dm:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "DmButton":
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"clicked {self.n}", view=None)
        await interaction.followup.send("a follow-up")
        await interaction.user.send("and a plain DM")  # the DM channel is cached: no second POST


admin = app_commands.Group(
    name="admin", description="Server settings", default_permissions=discord.Permissions(manage_guild=True)
)
limits = app_commands.Group(name="limits", description="Job limits", parent=admin)


@limits.command(name="set", description="Sets a limit")
async def limits_set(interaction: discord.Interaction, running: app_commands.Range[int, 1, 8]) -> None:
    await interaction.response.send_message(f"running limit is now {running}")


@admin.command(description="Shows the settings")
async def show(interaction: discord.Interaction) -> None:
    if not interaction.permissions.manage_guild:  # the bot's own check, for forged interactions
        await interaction.response.send_message("only managers may do that", ephemeral=True)
        return
    await interaction.response.send_message("settings: defaults")


@admin.command(description="Allows a channel")
async def allow(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
    await interaction.response.send_message(f"allowed #{channel.name} (nsfw={channel.is_nsfw()})")


@app_commands.command(description="Says whether the channel is age-restricted")
async def peek(interaction: discord.Interaction) -> None:
    channel = interaction.channel
    assert isinstance(channel, discord.TextChannel)
    await interaction.response.send_message(f"nsfw={channel.is_nsfw()}")


@app_commands.command(description="Only in age-restricted channels", nsfw=True)
async def spicy(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("hot")


@app_commands.command(description="Reads a file")
async def inspect(interaction: discord.Interaction, file: discord.Attachment) -> None:
    data = await file.read()
    size = f"{file.width}x{file.height}" if file.width else "-"
    await interaction.response.send_message(
        f"{file.filename} {len(data)}={file.size} {file.content_type} {size} ephemeral={file.ephemeral}"
    )


@app_commands.command(description="Sends the grid by DM")
async def remind(interaction: discord.Interaction) -> None:
    bot = interaction.client
    assert isinstance(bot, FeatureBot)
    try:
        dm = await interaction.user.create_dm()
        view = discord.ui.View(timeout=None)
        view.add_item(DmButton(1))
        await dm.send("your grid", file=discord.File(io.BytesIO(png()), "grid.png"), view=view)
    except discord.Forbidden as error:
        bot.errors.append(error)
        await interaction.response.send_message("I cannot DM you", ephemeral=True)
        return
    await interaction.response.send_message("sent", ephemeral=True)


@app_commands.command(description="Works anywhere")
async def hello(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("hi")


@app_commands.command(description="Servers only")
@app_commands.guild_only()
async def where(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("here")


class FeatureBot(discord.Client):
    """Guild commands /admin (a group), /peek, /spicy, /inspect and /remind; global /hello and /where."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.guild = discord.Object(guild_id)
        self.seen: list[discord.Interaction] = []
        self.errors: list[discord.HTTPException] = []
        for command in (admin, peek, spicy, inspect, remind):
            self.tree.add_command(command, guild=self.guild)
        self.tree.add_command(hello)
        self.tree.add_command(where)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(DmButton)
        await self.tree.sync(guild=self.guild)
        await self.tree.sync()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.seen.append(interaction)


Scenario = Callable[[DiscordEmulator, FeatureBot], Awaitable[None]]


@pytest.fixture
def run_bot(point_discord_py: Callable[[DiscordEmulator], None]) -> Callable[[Scenario], None]:
    """Runs a scenario with FeatureBot connected, then checks that nothing broke the spec."""
    return lambda scenario: run_scenario(point_discord_py, FeatureBot, scenario)


async def answer(emulator: DiscordEmulator, interaction: Interaction) -> str:
    """The content of the bot's answer to the interaction (ephemeral or not)."""
    await interaction.wait_acknowledged()
    assert interaction.original_message_id is not None
    return emulator.message(interaction.original_message_id)["content"]


def test_an_age_restricted_channel_is_seen_by_discord_py_and_offers_nsfw_commands(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: FeatureBot) -> None:
        ada = emulator.add_member("ada")
        lounge = emulator.add_channel("lounge", nsfw=True)
        await eventually(lambda: bot.get_channel(lounge))  # CHANNEL_CREATE reached the cache
        channel = bot.get_channel(lounge)
        assert isinstance(channel, discord.TextChannel) and channel.name == "lounge" and channel.is_nsfw()
        in_lounge = await emulator.slash("peek", user_id=ada, channel_id=lounge)
        assert await answer(emulator, in_lounge) == "nsfw=True"
        assert await answer(emulator, await emulator.slash("peek", user_id=ada)) == "nsfw=False"
        assert await answer(emulator, await emulator.slash("spicy", user_id=ada, channel_id=lounge)) == "hot"
        with pytest.raises(PermissionError, match="age-restricted"):
            await emulator.slash("spicy", user_id=ada)
        allowed = await emulator.slash("admin allow", {"channel": lounge}, user_id=emulator.owner_id)
        assert await answer(emulator, allowed) == "allowed #lounge (nsfw=True)"  # resolved in a subcommand
        with pytest.raises(ValueError, match="already has a channel named 'lounge'"):
            emulator.add_channel("lounge")

    run_bot(scenario)


def test_a_subcommand_in_a_group_reaches_its_callback_with_its_options(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: FeatureBot) -> None:
        owner = emulator.owner_id
        [registered] = [c for c in emulator.commands(emulator.guild_id) if c["name"] == "admin"]
        assert registered["default_member_permissions"] == str(MANAGE_GUILD)
        interaction = await emulator.slash("admin limits set", {"running": 2}, user_id=owner)
        assert await answer(emulator, interaction) == "running limit is now 2"
        options = bot.seen[-1].data["options"]  # type: ignore[index]
        subcommand = {"name": "set", "type": 1, "options": [{"name": "running", "type": 4, "value": 2}]}
        assert options == [{"name": "limits", "type": 2, "options": [subcommand]}]  # as Discord nests them
        assert (
            await answer(emulator, await emulator.slash("admin show", user_id=owner)) == "settings: defaults"
        )
        with pytest.raises(
            LookupError, match=r"no subcommand 'reset'.*'/admin limits set', '/admin show', '/admin allow'"
        ):
            await emulator.slash("admin reset", user_id=owner)
        with pytest.raises(LookupError, match="name one"):
            await emulator.slash("admin limits", user_id=owner)
        with pytest.raises(ValueError, match="max_value"):
            await emulator.slash("admin limits set", {"running": 9}, user_id=owner)
        with pytest.raises(ValueError, match="needs the options"):
            await emulator.slash("admin limits set", user_id=owner)

    run_bot(scenario)


def test_a_command_is_hidden_without_its_permissions_and_a_forged_one_meets_the_bots_check(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: FeatureBot) -> None:
        ada = emulator.add_member("ada")
        with pytest.raises(PermissionError, match="default_member_permissions"):
            await emulator.slash("admin show", user_id=ada)
        forged = await emulator.slash("admin show", user_id=ada, forged=True)
        assert await answer(emulator, forged) == "only managers may do that"
        assert not bot.seen[-1].permissions.manage_guild and bot.seen[-1].permissions.send_messages
        managers = emulator.add_role("managers", MANAGE_GUILD)
        grace = emulator.add_member("grace", roles=[managers])
        assert (
            await answer(emulator, await emulator.slash("admin show", user_id=grace)) == "settings: defaults"
        )
        linus = emulator.add_member("linus", permissions=ADMINISTRATOR)
        assert (
            await answer(emulator, await emulator.slash("admin show", user_id=linus)) == "settings: defaults"
        )

    run_bot(scenario)


def test_an_attachment_option_is_read_by_discord_py(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: FeatureBot) -> None:
        ada = emulator.add_member("ada")
        image = await emulator.slash("inspect", {"file": Upload("cat.png", png(8, 6))}, user_id=ada)
        size = len(png(8, 6))
        assert await answer(emulator, image) == f"cat.png {size}={size} image/png 8x6 ephemeral=True"
        [attachment] = bot.seen[-1].data["resolved"]["attachments"].values()  # type: ignore[index]
        assert attachment["url"].startswith(emulator.base_url + "/attachments/")
        text = await emulator.slash("inspect", {"file": Upload("notes", b"hello", "text/plain")}, user_id=ada)
        assert await answer(emulator, text) == "notes 5=5 text/plain - ephemeral=True"
        with pytest.raises(ValueError, match="takes"):
            await emulator.slash("inspect", {"file": "cat.png"}, user_id=ada)
        with pytest.raises(ValueError, match="upload limit"):
            await emulator.slash(
                "inspect", {"file": Upload("big", b"x" * 101)}, user_id=ada, attachment_size_limit=100
            )

    run_bot(scenario)


def test_a_dm_with_a_file_and_a_button_is_clicked_answered_edited_and_deleted(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: FeatureBot) -> None:
        ada = emulator.add_member("ada")
        assert emulator.dm_channel_id(ada) is None
        assert await answer(emulator, await emulator.slash("remind", user_id=ada)) == "sent"
        dm = emulator.dm_channel_id(ada)
        assert dm is not None
        [grid] = emulator.messages(dm)
        assert grid["content"] == "your grid" and grid["attachments"][0]["data"] == png()
        assert "guild_id" not in grid
        with pytest.raises(PermissionError, match="DM with user"):
            await emulator.click(int(grid["id"]), "dm:1", user_id=emulator.add_member("grace"))
        click = await emulator.click(int(grid["id"]), "dm:1", user_id=ada)
        await eventually(lambda: len(emulator.messages(dm)) == 3)
        clicked = bot.seen[-1]
        assert clicked.guild_id is None and clicked.context.dm_channel and not clicked.is_guild_integration()
        assert clicked.channel is not None and clicked.channel.type is discord.ChannelType.private
        assert type(clicked.user) is discord.User and clicked.user.id == ada
        edited, follow_up, plain = emulator.messages(dm)
        assert (edited["content"], edited["components"], click.response_type) == ("clicked 1", [], 7)
        assert follow_up["content"] == "a follow-up"
        assert follow_up["message_reference"] == {"type": 0, "message_id": grid["id"], "channel_id": str(dm)}
        assert plain["content"] == "and a plain DM"
        creates = [r for r in emulator.requests if r["path"] == "/users/@me/channels"]
        assert [r["status"] for r in creates] == [200]
        channel = bot.get_channel(dm)
        assert isinstance(channel, discord.DMChannel) and channel.recipient and channel.recipient.id == ada
        message = await channel.fetch_message(int(plain["id"]))
        await message.edit(content="edited by the bot")
        assert emulator.message(message.id)["content"] == "edited by the bot"
        await message.delete()
        assert message.id in emulator.deleted

    run_bot(scenario)


def test_a_member_with_dms_closed_gets_50007_and_commands_in_dms_follow_contexts(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: FeatureBot) -> None:
        grace = emulator.add_member("grace", accepts_dms=False)
        assert await answer(emulator, await emulator.slash("remind", user_id=grace)) == "I cannot DM you"
        [error] = bot.errors
        assert (error.status, error.code, error.text) == (403, 50007, "Cannot send messages to this user")
        dm = emulator.dm_channel_id(grace)
        assert dm is not None and emulator.messages(dm) == []  # the DM opened; the message was refused
        assert await answer(emulator, await emulator.slash("hello", user_id=grace, channel_id=dm)) == "hi"
        assert bot.seen[-1].context.dm_channel and bot.seen[-1].guild is None
        with pytest.raises(PermissionError, match="guild-only"):
            await emulator.slash("where", user_id=grace, channel_id=dm)
        with pytest.raises(PermissionError, match="guild command"):
            await emulator.slash("remind", user_id=grace, channel_id=dm)
        with pytest.raises(PermissionError, match="DM with user"):
            await emulator.slash("hello", user_id=emulator.add_member("ada"), channel_id=dm)

    run_bot(scenario)
