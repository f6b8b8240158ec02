"""A small real discord.py bot, and running it against a `DiscordEmulator` inside one event loop."""

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from PIL import Image

from emulator import DiscordEmulator


def png(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


class LikeButton(discord.ui.DynamicItem[discord.ui.Button], template=r"like:(?P<count>\d+)"):
    """Counts clicks in its own custom_id, like the bot's persistent buttons."""

    def __init__(self, count: int) -> None:
        super().__init__(discord.ui.Button(label=f"Like ({count})", custom_id=f"like:{count}"))
        self.count = count

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "LikeButton":
        return cls(int(match["count"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        liked = LikeButton(self.count + 1)
        await interaction.response.edit_message(content=f"{self.count + 1} likes", view=_view(liked))


def _view(*items: discord.ui.Item) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


@app_commands.command(description="Says it")
async def echo(
    interaction: discord.Interaction,
    text: str,
    secret: bool = False,
    times: app_commands.Range[int, 1, 3] = 1,
) -> None:
    await interaction.response.send_message(
        " ".join([text] * times), view=_view(LikeButton(0)), ephemeral=secret
    )


@app_commands.command(description="Sends a file")
async def upload(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content="here it comes")
    follow_up = await interaction.followup.send("the grid", file=discord.File(io.BytesIO(png()), "grid.png"))
    await follow_up.add_files(discord.File(io.BytesIO(b"notes"), "notes.txt"))
    await interaction.followup.send("done", ephemeral=True)


@app_commands.command(description="Waits for the test before it answers")
async def slow(interaction: discord.Interaction) -> None:
    bot = interaction.client
    assert isinstance(bot, EchoBot)
    await interaction.response.defer(thinking=True)
    await bot.go_on.wait()
    try:
        await interaction.edit_original_response(content="finally")
    except discord.HTTPException as error:
        bot.errors.append(error)


class EchoBot(discord.Client):
    """Guild commands /echo (with a Like button), /upload and /slow."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.guild = discord.Object(guild_id)
        self.errors: list[discord.HTTPException] = []
        self.go_on = asyncio.Event()
        for command in (echo, upload, slow):
            self.tree.add_command(command, guild=self.guild)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(LikeButton)
        await self.tree.sync(guild=self.guild)


@contextlib.asynccontextmanager
async def running(emulator: DiscordEmulator, client: discord.Client) -> AsyncIterator[discord.Client]:
    """`client` logged in and past on_ready; closed afterwards."""
    await client.login(emulator.token)
    connecting = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), 5)
        yield client
    finally:
        await client.close()
        await connecting


@contextlib.asynccontextmanager
async def emulated(**options: object) -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator(**options)  # type: ignore[arg-type]
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


async def eventually(condition: object, timeout: float = 3.0) -> None:
    """Waits until `condition()` is truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still false after {timeout}s: {condition}")
        await asyncio.sleep(0.01)


def run_scenario(
    point_discord_py: Callable[[DiscordEmulator], None],
    make_bot: Callable[[int], discord.Client],
    scenario: Callable[[DiscordEmulator, Any], Awaitable[None]],
) -> None:
    """Runs `scenario(emulator, bot)` with the bot connected, then checks that nothing broke the spec."""

    async def main() -> None:
        async with emulated() as emulator:
            point_discord_py(emulator)
            bot = make_bot(emulator.guild_id)
            async with running(emulator, bot):
                await scenario(emulator, bot)
            assert emulator.violations == []

    asyncio.run(main())
