"""Job specifications: everything a worker needs to run one operation, fully resolved."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from jobs import limits
from jobs.attention import checked
from jobs.lora_syntax import LORA_NAME_PATTERN
from jobs.prompt import PromptPart

JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN)]


def _one_prompt(parts: tuple[PromptPart, ...]) -> tuple[PromptPart, ...]:
    # The parser accepts MAX_PROMPT_CHARS in all, parameters included: the parts hold less.
    if (total := sum(len(part.text) for part in parts)) > limits.MAX_PROMPT_CHARS:
        raise ValueError(f"the prompt is {total} characters long; at most {limits.MAX_PROMPT_CHARS}")
    return parts


def _known_sampler(name: str) -> str:
    if name not in limits.SAMPLERS:
        raise ValueError(f"`{name}` isn't a sampler: use one of {', '.join(limits.SAMPLERS)}")
    return name


class Operation(StrEnum):
    IMAGINE = "imagine"
    REROLL = "reroll"
    UPSCALE = "upscale"
    VARY = "vary"


class Strength(StrEnum):
    SUBTLE = "subtle"
    STRONG = "strong"


class Safety(StrEnum):
    """What the worker does with images its NSFW checker flags (the server's choice for the channel)."""

    OFF = "off"
    """No check."""
    BLOCK = "block"
    """Flagged images are replaced by a flat stand-in in every stored artifact, the grid included."""
    SPOILER = "spoiler"
    """Flagged images are kept; the result lists them, for the bot to mark as spoilers."""


class LoraUse(BaseModel):
    """A LoRA applied to a job, at this weight."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=LORA_NAME_PATTERN)
    weight: float = Field(ge=-limits.LORA_WEIGHT_MAX, le=limits.LORA_WEIGHT_MAX)


def _distinct_loras(loras: tuple[LoraUse, ...]) -> tuple[LoraUse, ...]:
    names = [lora.name for lora in loras]
    if len(set(names)) < len(names):
        raise ValueError(f"a LoRA is named twice: {', '.join(names)}")
    return loras


class Generation(BaseModel):
    """Resolved sampling parameters: what the pipeline is called with."""

    model_config = ConfigDict(frozen=True)

    model: str
    prompt: Annotated[
        tuple[PromptPart, ...],
        Field(min_length=1, max_length=limits.MAX_PROMPT_PARTS),
        AfterValidator(_one_prompt),
    ]
    negative: Annotated[str, Field(max_length=limits.MAX_PROMPT_CHARS), AfterValidator(checked)] = ""
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    steps: int = Field(ge=limits.STEPS_MIN, le=limits.STEPS_MAX * 2)
    guidance: float = Field(ge=limits.GUIDANCE_MIN, le=limits.GUIDANCE_MAX)
    sampler: Annotated[str, AfterValidator(_known_sampler)]
    seed: int = Field(ge=0, le=limits.SEED_MAX)
    chaos: int = Field(default=0, ge=0, le=limits.CHAOS_MAX)
    tile: bool = False
    stop: int = Field(default=limits.STOP_MAX, ge=limits.STOP_MIN, le=limits.STOP_MAX)
    """The percentage of `steps` to run before decoding (`--stop`): 100 runs them all."""
    loras: Annotated[
        tuple[LoraUse, ...], Field(max_length=limits.LORAS_MAX), AfterValidator(_distinct_loras)
    ] = ()
    """Applied in this order, each at its weight."""

    @property
    def seeds(self) -> list[int]:
        """The seed of each grid image: s, s+1, s+2, s+3 (wrapping at the seed limit)."""
        return [(self.seed + i) % (limits.SEED_MAX + 1) for i in range(limits.GRID_IMAGES)]


class ImageRef(BaseModel):
    """One image of an earlier job's grid (index 1-4, as members count them)."""

    model_config = ConfigDict(frozen=True)

    job_id: JobId
    index: int = Field(ge=1, le=limits.GRID_IMAGES)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: JobId
    generation: Generation
    requested_by: str | None = Field(default=None, max_length=limits.MAX_REQUESTER_CHARS)
    """Who asked (a Discord user id, or a local user name): for limits and attribution."""
    warnings: tuple[Annotated[str, Field(max_length=limits.MAX_WARNING_CHARS)], ...] = Field(
        default=(), max_length=limits.MAX_WARNINGS
    )
    """Notes from resolving the prompt that the result should carry."""
    safety: Safety = Safety.OFF
    """What the worker does with images its NSFW checker flags: nothing is checked when OFF; BLOCK
    replaces them before they are stored; SPOILER keeps them. `Done.flagged` lists them either way."""


class ImagineSpec(_Spec):
    op: Literal[Operation.IMAGINE] = Operation.IMAGINE


class RerollSpec(_Spec):
    """The same prompt as `source_job_id`, with new seeds."""

    op: Literal[Operation.REROLL] = Operation.REROLL
    source_job_id: JobId


class UpscaleSpec(_Spec):
    """Image `source` at `factor`×: a resize, then a low-denoise img2img refine."""

    op: Literal[Operation.UPSCALE] = Operation.UPSCALE
    source: ImageRef
    factor: int = Field(default=2, ge=2, le=4)
    denoise: float = Field(gt=0, le=1)


class VarySpec(_Spec):
    """Four new images made by img2img from image `source`."""

    op: Literal[Operation.VARY] = Operation.VARY
    source: ImageRef
    strength: Strength
    denoise: float = Field(gt=0, le=1)


JobSpec = Annotated[ImagineSpec | RerollSpec | UpscaleSpec | VarySpec, Field(discriminator="op")]
JOB_SPEC: TypeAdapter[JobSpec] = TypeAdapter(JobSpec)
