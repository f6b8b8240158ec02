"""Private answers: messages only the member who asked sees."""

import discord


async def tell(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer that pings no one, as the response or, once answered, a follow-up."""
    quiet = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=quiet)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=quiet)
