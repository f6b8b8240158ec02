"""Job specifications: everything a worker needs to run one operation, fully resolved."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from jobs import limits
from jobs.attention import checked
from jobs.lanes import Lane
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
    BLEND = "blend"
    REROLL = "reroll"
    UPSCALE = "upscale"
    VARY = "vary"
    ZOOM = "zoom"
    PAN = "pan"
    SQUARE = "square"
    REGION = "region"
    INPAINT = "inpaint"
    DESCRIBE = "describe"


class Direction(StrEnum):
    """Which side of the image a pan extends."""

    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"


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
    weird: int = Field(default=0, ge=0, le=limits.WEIRD_MAX)
    """How far the prompt's embedding is pushed somewhere unusual (`--w`), the same way for the grid."""
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


class UploadRef(BaseModel):
    """An image a member gave (an attachment or a link), as the bot stored it: the `index`th of
    the images it stored under `upload_id`."""

    model_config = ConfigDict(frozen=True)

    upload_id: JobId
    index: int = Field(ge=1, le=limits.UPLOADS_MAX)


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
    lane: Lane = Lane.FAST
    """Where it waits in its model's queue (`jobs.lanes`)."""
    safety: Safety = Safety.OFF
    """What the worker does with images its NSFW checker flags: nothing is checked when OFF; BLOCK
    replaces them before they are stored; SPOILER keeps them. `Done.flagged` lists them either way."""

    @property
    def model(self) -> str:
        """The catalog model that runs the job (its queue's)."""
        return self.generation.model


class _Prompted(_Spec):
    """A grid made from the prompt, and from the member's images when it has some."""

    images: tuple[UploadRef, ...] = Field(default=(), max_length=limits.IMAGE_PROMPTS_MAX)
    """Image prompts: each grid image starts from one of them, in turn (see `jobs.images`)."""
    image_weight: float = Field(default=limits.IMAGE_WEIGHT_DEFAULT, ge=0, le=limits.IMAGE_WEIGHT_MAX)
    """How much the images count (`--iw`)."""
    style_images: tuple[UploadRef, ...] = Field(default=(), max_length=limits.IMAGE_PROMPTS_MAX)
    """Style references (`--sref`), through the model's image-prompt adapter: their embeddings
    averaged."""
    style_weight: int = Field(default=limits.STYLE_WEIGHT_DEFAULT, ge=0, le=limits.STYLE_WEIGHT_MAX)
    """How strongly they count (`--sw`)."""
    style_image_weights: tuple[Annotated[float, Field(ge=0, le=limits.REFERENCE_WEIGHT_MAX)], ...] = ()
    """Each style reference's share of the average (`--sref <link>::2`), in order; () for equal."""

    @model_validator(mode="after")
    def _one_weight_a_style_image(self) -> "_Prompted":
        if self.style_image_weights and len(self.style_image_weights) != len(self.style_images):
            raise ValueError(
                f"{len(self.style_image_weights)} style weights for {len(self.style_images)} style images"
            )
        if self.style_image_weights and not any(self.style_image_weights):
            raise ValueError("the style weights are all 0: at least one must be more than 0")
        return self


class ImagineSpec(_Prompted):
    op: Literal[Operation.IMAGINE] = Operation.IMAGINE


class RerollSpec(_Prompted):
    """The same prompt (and images) as `source_job_id`, with new seeds."""

    op: Literal[Operation.REROLL] = Operation.REROLL
    source_job_id: JobId


class _FromImage(_Spec):
    """A job made from one image of an earlier job: `generation` holds the size of what it makes."""

    source: ImageRef


class UpscaleSpec(_FromImage):
    """Image `source` at `factor`×: a resize, then an img2img refine (light, or `creative`)."""

    op: Literal[Operation.UPSCALE] = Operation.UPSCALE
    factor: int = Field(default=2, ge=2, le=4)
    denoise: float = Field(gt=0, le=1)
    creative: bool = False
    """Upscale (Creative): refined harder, so detail may be added; else Upscale (Subtle)."""


class VarySpec(_FromImage):
    """Four new images made by img2img from image `source`."""

    op: Literal[Operation.VARY] = Operation.VARY
    strength: Strength
    denoise: float = Field(gt=0, le=1)


class ZoomSpec(_FromImage):
    """Zoom Out: image `source` shrunk `factor` times in the middle of a canvas of the same size,
    the border around it outpainted; a grid."""

    op: Literal[Operation.ZOOM] = Operation.ZOOM
    factor: float = Field(ge=limits.ZOOM_MIN, le=limits.ZOOM_MAX)


class PanSpec(_FromImage):
    """Pan: image `source` on a canvas extended towards `direction`, the new strip outpainted; a grid."""

    op: Literal[Operation.PAN] = Operation.PAN
    direction: Direction


class SquareSpec(_FromImage):
    """Make Square: image `source` in the middle of a square canvas, the rest outpainted; a grid."""

    op: Literal[Operation.SQUARE] = Operation.SQUARE


def _cells(cells: frozenset[int]) -> frozenset[int]:
    if not cells or not cells <= set(range(1, limits.REGION_CELLS + 1)):
        raise ValueError(f"cells must be some of 1-{limits.REGION_CELLS}")
    return cells


class RegionSpec(_FromImage):
    """Vary (Region): the `cells` of image `source` (a 3 × 3 grid, numbered 1-9 row by row)
    repainted with the prompt, the rest kept; a grid."""

    op: Literal[Operation.REGION] = Operation.REGION
    cells: Annotated[frozenset[int], AfterValidator(_cells)]


class InpaintSpec(_Spec):
    """An edit of an image a client gave (the HTTP API's `images.edit` with a mask): where `mask`
    is white, `image` repainted with the prompt, the rest kept; a grid at the spec's size."""

    op: Literal[Operation.INPAINT] = Operation.INPAINT
    image: UploadRef
    mask: UploadRef
    """White ("L" 255) where to repaint: at any size, stretched to the image's."""


class BlendSpec(_Spec):
    """`/blend`: a grid from 2-5 of the member's images, their adapter embeddings averaged; the
    prompt is usually empty."""

    op: Literal[Operation.BLEND] = Operation.BLEND
    images: tuple[UploadRef, ...] = Field(min_length=limits.BLEND_MIN, max_length=limits.IMAGE_PROMPTS_MAX)


class DescribeSpec(BaseModel):
    """`/describe`: prompts written from `image` by the captioner of catalog model `model`."""

    model_config = ConfigDict(frozen=True)

    op: Literal[Operation.DESCRIBE] = Operation.DESCRIBE
    job_id: JobId
    model: str
    """The catalog model whose captioner writes them; the job runs on its workers."""
    image: UploadRef
    seed: int = Field(ge=0, le=limits.SEED_MAX)
    """Another seed, other prompts (🔄)."""
    requested_by: str | None = Field(default=None, max_length=limits.MAX_REQUESTER_CHARS)
    safety: Safety = Safety.OFF
    """The server's NSFW policy, which the image goes through before it is described."""


OutpaintSpec = ZoomSpec | PanSpec | SquareSpec
"""The jobs that paint a larger canvas around their source image."""
FromImageSpec = UpscaleSpec | VarySpec | ZoomSpec | PanSpec | SquareSpec | RegionSpec
"""Every job made from an earlier job's image: its source must still be stored."""

ImageSpec = (
    ImagineSpec
    | RerollSpec
    | BlendSpec
    | UpscaleSpec
    | VarySpec
    | ZoomSpec
    | PanSpec
    | SquareSpec
    | RegionSpec
    | InpaintSpec
)
"""Every job that makes images."""
JobSpec = Annotated[ImageSpec | DescribeSpec, Field(discriminator="op")]
JOB_SPEC: TypeAdapter[JobSpec] = TypeAdapter(JobSpec)
