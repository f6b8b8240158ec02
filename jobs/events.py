"""Events a job emits on its way through the system, in the order they happen."""

import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class ArtifactRef(BaseModel):
    """Where a stored image lives (a Redis key) and what it is."""

    model_config = ConfigDict(frozen=True)

    key: str
    content_type: str
    width: int
    height: int
    size: int = Field(description="bytes")

    @property
    def extension(self) -> str:
        return self.content_type.removeprefix("image/").replace("jpeg", "jpg")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    job_id: str
    at: float = Field(default_factory=time.time)


class Queued(_Event):
    kind: Literal["queued"] = "queued"
    position: int = Field(ge=1, description="1 = next to start")


class Started(_Event):
    kind: Literal["started"] = "started"
    worker: str
    attempt: int = Field(default=1, ge=1)


class Progress(_Event):
    kind: Literal["progress"] = "progress"
    step: int
    total: int
    preview: bytes | None = Field(default=None, description="a small JPEG of the latents so far")

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.step / max(self.total, 1)))


class Done(_Event):
    kind: Literal["done"] = "done"
    images: tuple[ArtifactRef, ...]
    grid: ArtifactRef | None = Field(default=None, description="the 2×2 grid; None for one image")
    seeds: tuple[int, ...]
    warnings: tuple[str, ...] = ()
    seconds: float = Field(description="time the worker spent on the job")
    flagged: tuple[int, ...] = Field(
        default=(),
        description="1-based indices of the images the NSFW checker flagged (replaced when the job asked"
        " to block them, kept when it asked for spoilers)",
    )
    safety_checked: bool = Field(
        default=False, description="whether a checker ran: tells 'nothing flagged' from 'not checked'"
    )
    prompts: tuple[str, ...] = Field(default=(), description="what `/describe` wrote (no images then)")


class Failed(_Event):
    kind: Literal["failed"] = "failed"
    reason: str = Field(description="safe to show to the member: no traceback, no internals")


Event = Annotated[Queued | Started | Progress | Done | Failed, Field(discriminator="kind")]
EVENT: TypeAdapter[Event] = TypeAdapter(Event)
