"""The slash commands members type."""

import asyncio

import discord
from discord import app_commands
from redis import Redis

from bot import render
from bot.actions import Actions
from bot.info import overview
from bot.policy import Asker
from jobs import limits
from models.catalog import Catalog


def add_commands(tree: app_commands.CommandTree, actions: Actions, redis: Redis, catalog: Catalog) -> None:
    @tree.command(name="imagine", description="Create four images from a prompt")
    @app_commands.describe(prompt="what to draw, then parameters such as --ar 16:9 --seed 7 --no text")
    @app_commands.guild_only()
    async def imagine(
        interaction: discord.Interaction, prompt: app_commands.Range[str, 1, limits.MAX_PROMPT_CHARS]
    ) -> None:
        await actions.imagine(interaction, prompt)

    @tree.command(name="info", description="The queue, your unfinished jobs and the workers online")
    @app_commands.guild_only()
    async def info(interaction: discord.Interaction) -> None:
        found = await asyncio.to_thread(overview, redis, catalog, actions.deliveries, interaction.user.id)
        terms = await asyncio.to_thread(actions.policy.terms, Asker.of(interaction))
        limits = await asyncio.to_thread(actions.policy.limits_left, terms)
        text = f"{render.overview(found)}\n**Your limits here:** {limits}"
        await interaction.response.send_message(text, ephemeral=True)
