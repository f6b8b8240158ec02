"""A member's own defaults (/settings) and parameter shortcuts (/prefer), kept across servers."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobs import expansion, limits
from jobs.specs import Strength


class Posting(StrEnum):
    PUBLIC = "public"
    """In the channel where the member asked."""
    DM = "dm"
    """In a direct message to the member; the waiting message only they see."""


class MemberPreferences(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    revision: int = Field(default=0, ge=0)
    model: str | None = None
    aspect: str | None = Field(default=None, pattern=r"^[0-9]+:[0-9]+$")
    quality: float | None = Field(default=None, description="one of limits.QUALITY_CHOICES")
    steps: int | None = Field(default=None, ge=limits.STEPS_MIN, le=limits.STEPS_MAX)
    vary_strength: Strength | None = None
    """What V1–V4 do for this member; None: the bot's default."""
    posting: Posting = Posting.PUBLIC
    remix: bool = False
    """Remix mode: V1–V4, 🔄, the zooms, the pans and Vary (Region) first ask for the prompt."""
    options: dict[str, str] = Field(default_factory=dict, max_length=expansion.MAX_OPTIONS)
    """`--name` shortcut → the flags it stands for."""
    suffix: str = Field(default="", max_length=expansion.MAX_FLAGS_CHARS)
    """Flags added to every prompt (what the prompt sets itself wins)."""

    @field_validator("quality")
    @classmethod
    def _known_quality(cls, quality: float | None) -> float | None:
        if quality is not None and quality not in limits.QUALITY_CHOICES:
            raise ValueError(f"quality must be one of {limits.QUALITY_CHOICES}")
        return quality

    def defaults(self) -> dict[str, object]:
        """What the member's prompts get where they set nothing, in `ParsedPrompt` fields."""
        chosen: dict[str, object] = {"model": self.model, "steps": self.steps, "quality": self.quality}
        if self.aspect:
            width, height = self.aspect.split(":")
            chosen["aspect"] = (int(width), int(height))
        return {field: value for field, value in chosen.items() if value is not None}
