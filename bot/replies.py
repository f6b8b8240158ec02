"""Private answers: messages only the member who asked sees, and the one place an error that
reached an interaction becomes what the member reads."""

import logging
from collections.abc import Awaitable

import discord
from redis.exceptions import RedisError

from jobs.errors import MemberError

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


def reply_for(error: BaseException) -> str:
    """What the member reads when handling their interaction raised `error`: a `MemberError`'s own
    reply, an unreachable Redis (a restart, an outage) said as such, anything else as our bug."""
    cause = getattr(error, "original", error)  # app_commands wraps the command's own exception
    if isinstance(cause, MemberError):
        return cause.reply
    return UNREACHABLE if isinstance(cause, RedisError) else WENT_WRONG


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tells the member `reply_for(error)`; what is not the member's to fix is logged first."""
    if not isinstance(getattr(error, "original", error), MemberError):
        log.error("handling %s failed", _handled(interaction), exc_info=error)
    try:
        await tell(interaction, reply_for(error))
    except discord.HTTPException:
        log.warning("could not tell the member either", exc_info=True)


async def answering(interaction: discord.Interaction, handling: Awaitable[object]) -> None:
    """Awaits `handling`; if it fails, the member is told why (`answer_error`): no click goes
    unanswered."""
    try:
        await handling
    except Exception as error:
        await answer_error(interaction, error)


def _handled(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    return str((interaction.data or {}).get("custom_id", "?"))
