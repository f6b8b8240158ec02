"""`/imagine`: a prompt, with Midjourney's parameters (and images), turned into a grid; `/blend`,
which makes one from images alone; and `/describe`, which writes prompts from an image."""

import discord
from discord import app_commands

from bot.requests.actions import Actions
from jobs import limits
from jobs.resolve import BLEND_SHAPES


def add_imagine_command(tree: app_commands.CommandTree, actions: Actions) -> None:
    @tree.command(name="imagine", description="Create four images from a prompt")
    @app_commands.describe(
        prompt="what to draw, then parameters such as --ar 16:9 --seed 7 --no text",
        image="an image to start from (--iw 0-3 sets how much it counts)",
        image2="another image to start from",
        image3="another image to start from",
        sref="a style reference (as --sref with a link; --sw 0-1000 sets how much it counts)",
    )
    @app_commands.guild_only()
    async def imagine(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, limits.MAX_PROMPT_CHARS],
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        sref: discord.Attachment | None = None,
    ) -> None:
        attachments = [given for given in (image, image2, image3) if given is not None]
        await actions.imagine(interaction, prompt, attachments, sref)

    @tree.command(name="blend", description="Blend two to five images into four new ones")
    @app_commands.describe(
        image1="the first image",
        image2="the second image",
        image3="a third image",
        image4="a fourth image",
        image5="a fifth image",
        dimensions="the shape of the images (square unless chosen)",
    )
    @app_commands.choices(dimensions=[app_commands.Choice(name=name, value=name) for name in BLEND_SHAPES])
    @app_commands.guild_only()
    async def blend(
        interaction: discord.Interaction,
        image1: discord.Attachment,
        image2: discord.Attachment,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        image5: discord.Attachment | None = None,
        dimensions: str = "square",
    ) -> None:
        attachments = [given for given in (image1, image2, image3, image4, image5) if given is not None]
        await actions.blend(interaction, attachments, dimensions)

    @tree.command(name="describe", description="Write four prompts from an image")
    @app_commands.describe(image="the image to describe", link="or a link to an image on Discord")
    @app_commands.guild_only()
    async def describe(
        interaction: discord.Interaction,
        image: discord.Attachment | None = None,
        link: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        await actions.describe(interaction, image, link)
