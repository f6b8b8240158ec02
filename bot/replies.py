"""Private answers: messages only the member who asked sees, and what they say when we failed."""

import logging
from collections.abc import Awaitable

import discord
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
"""Characters Discord takes in a message's content; it refuses a longer one (400, code 50035)."""
UNREACHABLE = "I can't reach my queue right now, so nothing was done. Try again in a moment."
WENT_WRONG = "Something went wrong on my side. Try again in a moment."


async def tell(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer that pings no one, as the response or, once answered, a follow-up."""
    quiet = discord.AllowedMentions.none()
    text = text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=quiet)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=quiet)


def trouble(error: BaseException) -> str:
    """What the member reads when we could not handle their interaction: an unreachable Redis (a
    restart, an outage) is said as such, anything else is our bug."""
    cause = getattr(error, "original", error)  # app_commands wraps the command's own exception
    return UNREACHABLE if isinstance(cause, RedisError) else WENT_WRONG


async def answering(interaction: discord.Interaction, handling: Awaitable[object]) -> None:
    """Awaits `handling`; if it fails, logs why and tells the member, so no click goes unanswered."""
    try:
        await handling
    except Exception as error:
        log.error("handling %s failed", (interaction.data or {}).get("custom_id", "?"), exc_info=error)
        try:
            await tell(interaction, trouble(error))
        except discord.HTTPException:
            log.warning("could not tell the member either", exc_info=True)
