"""One base class for errors a member may read, and one place that turns any error into a reply."""

import discord
import pytest
from discord import app_commands
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.replies import UNREACHABLE, WENT_WRONG, reply_for
from bot.rules.policy import Refusal
from bot.rules.store import ConfigError
from broker.queues import UnknownJobError
from jobs.errors import MemberError
from jobs.prompt import PromptError
from jobs.resolve import ResolveError
from models.catalog import UnknownModelError


@pytest.mark.parametrize(
    ("error", "reply"),
    [
        (PromptError("`--ar 30:1` is too wide"), "That prompt needs a change: `--ar 30:1` is too wide"),
        (UnknownModelError("There is no model `x`."), "That prompt needs a change: There is no model `x`."),
        (ResolveError("that job has 4 images: pick 1-4"), "that job has 4 images: pick 1-4"),
        (Refusal("I'm switched off in this channel."), "I'm switched off in this channel."),
        (ConfigError("no such channel"), "That can't be saved: no such channel"),
        (
            UnknownJobError("job 1 is unknown"),
            "This job is too old: its settings are no longer kept. Run /imagine again.",
        ),
    ],
)
def test_each_error_a_member_may_see_is_a_member_error_with_its_own_reply(error: MemberError, reply: str):
    assert isinstance(error, MemberError)
    assert reply_for(error) == reply


def test_what_the_member_cannot_fix_is_said_as_ours_and_a_wrapped_error_as_its_cause():
    assert reply_for(RedisConnectionError("gone")) == UNREACHABLE
    assert reply_for(KeyError("a bug")) == WENT_WRONG
    command = app_commands.Command(name="info", description="-", callback=_info)
    assert reply_for(app_commands.CommandInvokeError(command, Refusal("not here"))) == "not here"


async def _info(interaction: discord.Interaction) -> None:
    pass
