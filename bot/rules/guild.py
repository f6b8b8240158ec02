"""A server's rules for the bot: where it works, who may use it, how much, and what may be drawn.

Stored as one versioned JSON document per server (see `bot.rules.store`); the defaults are what a
new server gets.
"""

from collections.abc import Callable, Collection, Container, Iterable
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

from bot.rules.moderation import MAX_WORD_CHARS, check_pattern, fold
from jobs import limits
from jobs.aliases import ALIAS_PATTERN, ALIASES_MAX, CODE_PATTERN, CODES_MAX
from jobs.specs import Safety

STORED = {"stored": True}
"""Validation context for a document read back from Redis: each item was checked when it was
saved, or predates a check (an RE2-refused pattern, a longer word), and loads as it is, so a
server's config never stops loading. Matching skips what it cannot use. A change is validated with
`{"before": <the stored document>}`: only what it adds is checked, so an item saved before a check
does not block every other change."""


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def _unchecked(info: ValidationInfo, items: Callable[["GuildConfig"], Collection[object]]) -> Container:
    context = info.context or {}
    if context.get("stored"):
        return _Everything()
    kept = context.get("before")
    return items(kept) if isinstance(kept, GuildConfig) else ()


def _snowflakes(ids: frozenset[int], info: ValidationInfo) -> frozenset[int]:
    kept = _unchecked(info, GuildConfig.ids)
    wrong = sorted(i for i in ids if not 0 < i < 2**63 and i not in kept)
    if wrong:
        raise ValueError(f"{wrong[0]} is not a Discord id (a positive number below 2**63)")
    return ids


IdSet = Annotated[frozenset[int], AfterValidator(_snowflakes), PlainSerializer(sorted, return_type=list[int])]
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
    loras: int = Field(default=4, ge=0, le=limits.LORAS_MAX, description="LoRAs one job may use (0: none)")
    turbo_hourly: int = Field(
        default=0, ge=0, le=10_000, description="`--turbo` jobs a member may start an hour (0: turbo off)"
    )


class Models(_Part):
    offered: frozenset[str] | None = Field(default=None, description="None: every model in the catalog")
    default: str | None = Field(default=None, description="None: the catalog's default")
    creative_upscales: bool = Field(default=False, description="U1–U4 make Creative upscales, not Subtle")
    aliases: dict[Annotated[str, Field(pattern=ALIAS_PATTERN)], str] = Field(
        default_factory=dict, max_length=ALIASES_MAX
    )
    """The model `--v 7` or `--niji 6` draws with, by alias name (`v7`, `niji6`; see `jobs.aliases`)."""

    def offers(self, name: str) -> bool:
        return self.offered is None or name in self.offered


class Loras(_Part):
    offered: frozenset[str] | None = Field(default=None, description="None: every LoRA in the catalog")

    def offers(self, name: str) -> bool:
        return self.offered is None or name in self.offered


class Styles(_Part):
    codes: dict[Annotated[str, Field(pattern=CODE_PATTERN)], str] = Field(
        default_factory=dict, max_length=CODES_MAX
    )
    """The catalog style a Midjourney style code (`--sref 2837465`, `--p abc123`) stands for."""


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
    strict: bool = False
    """Also catch stand-ins (`c4t`, `c@t`) and spaced-out letters (`c a t`, `c.a.t`)."""

    @field_validator("words")
    @classmethod
    def _fold_words(cls, words: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        kept = _unchecked(info, lambda config: config.moderation.words)
        folded = tuple(dict.fromkeys(" ".join(fold(word).split()) for word in words))
        for word in folded:
            if len(word) > MAX_WORD_CHARS and word not in kept:
                raise ValueError(f"`{word[:20]}…` is over {MAX_WORD_CHARS} characters (once folded)")
        return tuple(word for word in folded if word)

    @field_validator("patterns")
    @classmethod
    def _check_patterns(cls, patterns: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        kept = _unchecked(info, lambda config: config.moderation.patterns)
        for pattern in patterns:
            if pattern not in kept:
                check_pattern(pattern)
        return tuple(dict.fromkeys(patterns))


class GuildConfig(_Part):
    """Everything a server's admins set with /admin."""

    schema_version: Literal[1] = 1
    revision: int = Field(default=0, ge=0, description="bumped by every change")
    channels: ChannelRules = ChannelRules()
    limits: Limits = Limits()
    models: Models = Models()
    loras: Loras = Loras()
    styles: Styles = Styles()
    roles: Roles = Roles()
    moderation: Moderation = Moderation()

    def ids(self) -> frozenset[int]:
        """Every channel and role id the document names."""
        channels, roles = self.channels, self.roles
        return channels.allowed | channels.denied | roles.allowed | roles.exempt
