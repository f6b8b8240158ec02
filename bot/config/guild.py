"""A server's rules for the bot: where it works, who may use it, how much, and what may be drawn.

Stored as one versioned JSON document per server (see `bot.config.store`); the defaults are what a
new server gets.
"""

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from bot.moderation import check_pattern, fold
from jobs import limits
from jobs.specs import Safety

IdSet = Annotated[frozenset[int], PlainSerializer(sorted, return_type=list[int])]
"""Discord ids (channels or roles), written out sorted."""

MAX_BANNED = 500
"""Banned words and patterns a server may keep, each."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChannelRules(_Part):
    """Channels listed in `denied` or `allowed` go their way; every other one follows `everywhere`."""

    everywhere: bool = True
    allowed: IdSet = frozenset()
    denied: IdSet = frozenset()

    def allows(self, channel_ids: Iterable[int]) -> bool:
        """Whether /imagine works here: `channel_ids` is the channel, then its parent for a thread."""
        for channel_id in channel_ids:
            if channel_id in self.denied:
                return False
            if channel_id in self.allowed:
                return True
        return self.everywhere

    def allow(self, channel_id: int | None) -> "ChannelRules":
        """On in that channel, or everywhere (None) but in the channels denied by name."""
        if channel_id is None:
            return self.model_copy(update={"everywhere": True, "denied": frozenset()})
        return self.model_copy(
            update={"allowed": self.allowed | {channel_id}, "denied": self.denied - {channel_id}}
        )

    def deny(self, channel_id: int | None) -> "ChannelRules":
        """Off in that channel, or everywhere (None): then only channels allowed afterwards."""
        if channel_id is None:
            return self.model_copy(update={"everywhere": False, "allowed": frozenset()})
        return self.model_copy(
            update={"denied": self.denied | {channel_id}, "allowed": self.allowed - {channel_id}}
        )


class Limits(_Part):
    running: int = Field(default=3, ge=1, le=50, description="jobs a member may have running at once")
    waiting: int = Field(default=10, ge=1, le=500, description="jobs a member may have waiting to start")
    hourly: int | None = Field(default=None, ge=1, le=10_000, description="jobs a member may start an hour")
    max_side: int | None = Field(default=None, ge=64, le=16_384, description="largest image width or height")
    max_steps: int | None = Field(default=None, ge=limits.STEPS_MIN, le=limits.STEPS_MAX * 2)


class Models(_Part):
    offered: frozenset[str] | None = Field(default=None, description="None: every model in the catalog")
    default: str | None = Field(default=None, description="None: the catalog's default")

    def offers(self, name: str) -> bool:
        return self.offered is None or name in self.offered


class Roles(_Part):
    allowed: IdSet = frozenset()
    """Roles whose members may use the bot; empty: everyone."""
    exempt: IdSet = frozenset()
    """Roles whose members the hourly limit does not apply to."""


class Moderation(_Part):
    words: tuple[str, ...] = Field(default=(), max_length=MAX_BANNED)
    """Banned words and phrases, folded (lowercase, no accents)."""
    patterns: tuple[str, ...] = Field(default=(), max_length=MAX_BANNED)
    """Banned regular expressions, matched against the folded prompt."""
    nsfw: Safety = Safety.BLOCK
    """What happens to images the checker flags outside age-restricted channels."""

    @field_validator("words")
    @classmethod
    def _fold_words(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        folded = (" ".join(fold(word).split()) for word in words)
        return tuple(dict.fromkeys(word for word in folded if word))

    @field_validator("patterns")
    @classmethod
    def _check_patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            check_pattern(pattern)
        return tuple(dict.fromkeys(patterns))


class GuildConfig(_Part):
    """Everything a server's admins set with /admin."""

    schema_version: Literal[1] = 1
    revision: int = Field(default=0, ge=0, description="bumped by every change")
    channels: ChannelRules = ChannelRules()
    limits: Limits = Limits()
    models: Models = Models()
    roles: Roles = Roles()
    moderation: Moderation = Moderation()
