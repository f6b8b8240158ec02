"""`/imagine`: a prompt, with Midjourney's parameters, turned into a grid."""

import discord
from discord import app_commands

from bot.requests.actions import Actions
from jobs import limits


def add_imagine_command(tree: app_commands.CommandTree, actions: Actions) -> None:
    @tree.command(name="imagine", description="Create four images from a prompt")
    @app_commands.describe(prompt="what to draw, then parameters such as --ar 16:9 --seed 7 --no text")
    @app_commands.guild_only()
    async def imagine(
        interaction: discord.Interaction, prompt: app_commands.Range[str, 1, limits.MAX_PROMPT_CHARS]
    ) -> None:
        await actions.imagine(interaction, prompt)
