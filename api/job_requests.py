"""What `POST /v1/jobs` takes, for everything the bot can do, one model per `op`, and the job specs
it makes: a new grid from a prompt, a follow-up of one of the key's grids (upscale, vary, reroll,
zoom, pan, square, region, with a new prompt where the bot's Remix takes one), or a job from the
client's images (blend, describe), each held to the key's limits."""

import base64
import binascii
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.errors import ApiError, bad_request
from api.keys import ApiKey
from api.services import Services
from api.uploads import read_given, stored
from broker.queues import UnknownJobError
from jobs import limits
from jobs.errors import MemberError
from jobs.prompt import PromptError, parse_prompt
from jobs.resolve import (
    blend_profile,
    blend_spec,
    describe_spec,
    imagine_specs,
    pan_spec,
    random_seed,
    region_spec,
    remixed,
    reroll_spec,
    square_spec,
    upscale_spec,
    vary_spec,
    zoom_spec,
)
from jobs.specs import DescribeSpec, Direction, JobSpec, Strength
from models.catalog import UnknownModelError

JobId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="a job's id")]
Index = Annotated[int, Field(ge=1, le=limits.GRID_IMAGES, description="the grid's image, 1-4")]
Prompt = Annotated[str, Field(min_length=1, max_length=limits.MAX_PROMPT_CHARS)]
Base64Image = Annotated[
    str,
    Field(
        min_length=4,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="a PNG, JPEG, WebP or GIF image, base64",
        json_schema_extra={"contentEncoding": "base64"},
    ),
]


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[A-Za-z0-9.-]+(:(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}))?(/[!-~]*)?$",
        description="an http(s) URL told of the job's `done` or `failed`, signed with the key's secret",
    )


class ImagineJob(_Job):
    """A new grid from a prompt (`{a, b}` or `--repeat` make several)."""

    op: Literal["imagine"]
    prompt: Prompt


class _FollowUp(_Job):
    job: JobId = Field(description="one of this key's grids")
    index: Index = 1


class UpscaleJob(_FollowUp):
    op: Literal["upscale"]
    creative: bool = Field(default=False, description="the creative upscale rather than the subtle")


class VaryJob(_FollowUp):
    op: Literal["vary"]
    strong: bool = Field(default=False, description="a strong variation rather than a subtle one")


class RerollJob(_Job):
    op: Literal["reroll"]
    job: JobId = Field(description="one of this key's grids: its prompt again, with new seeds")


class _Edit(_FollowUp):
    prompt: Prompt | None = Field(default=None, description="a new prompt, as Remix (default: the grid's)")


class ZoomJob(_Edit):
    op: Literal["zoom"]
    factor: float = Field(
        default=limits.ZOOM_MAX, gt=limits.ZOOM_MIN, le=limits.ZOOM_MAX, description="how far out"
    )


class PanJob(_Edit):
    op: Literal["pan"]
    direction: Direction = Field(description="the side the canvas grows")


class SquareJob(_Edit):
    op: Literal["square"]


class RegionJob(_Edit):
    op: Literal["region"]
    cells: list[Annotated[int, Field(ge=1, le=limits.REGION_CELLS)]] = Field(
        min_length=1, max_length=limits.REGION_CELLS, description="the cells to repaint, 1-9 of 3×3"
    )


class BlendJob(_Job):
    op: Literal["blend"]
    images: list[Base64Image] = Field(min_length=limits.BLEND_MIN, max_length=limits.IMAGE_PROMPTS_MAX)
    model: str | None = Field(default=None, description="a model with an image adapter (default: catalog's)")
    dimensions: Literal["portrait", "square", "landscape"] = "square"


class DescribeJob(_Job):
    op: Literal["describe"]
    image: Base64Image
    model: str | None = Field(default=None, description="a model with a captioner (default: catalog's)")


JobRequest = Annotated[
    ImagineJob
    | UpscaleJob
    | VaryJob
    | RerollJob
    | ZoomJob
    | PanJob
    | SquareJob
    | RegionJob
    | BlendJob
    | DescribeJob,
    Field(discriminator="op"),
]
"""What `POST /v1/jobs` takes: one of these, told apart by `op`."""
FollowUpJob = UpscaleJob | VaryJob | RerollJob | ZoomJob | PanJob | SquareJob | RegionJob


def job_specs(found: Services, key: ApiKey, body: JobRequest) -> list[JobSpec]:
    """The jobs `body` asks for, shaped to `key`; our resolver's refusals as 400s naming the field."""
    try:
        match body:
            case ImagineJob():
                specs = _imagined(found, key, body)
            case BlendJob() | DescribeJob():
                specs = [_from_images(found, key, body)]
            case _:
                specs = [_followed_up(found, key, body)]
    except UnknownJobError:
        raise ApiError(
            404, f"job {body.job} is unknown or has expired", type="not_found_error", param="job"
        ) from None
    except (PromptError, UnknownModelError) as error:
        named = isinstance(error, UnknownModelError) and isinstance(body, BlendJob | DescribeJob)
        raise bad_request(error, "model" if named else "prompt") from None
    except MemberError as error:
        raise bad_request(error, _param_of(body)) from None
    return [found.submissions.shape(key, spec) for spec in specs]


def _imagined(found: Services, key: ApiKey, body: ImagineJob) -> list[JobSpec]:
    parsed = parse_prompt(body.prompt)
    if parsed.image_urls or parsed.style_refs or parsed.references:
        raise ApiError(400, "image links are not fetched here: blend takes `images`", param="prompt")
    return list(imagine_specs(parsed, found.catalog, seed=random_seed(), requested_by=key.requester))


def _followed_up(found: Services, key: ApiKey, body: FollowUpJob) -> JobSpec:
    source = found.submissions.spec(key, body.job)
    if isinstance(source, DescribeSpec):
        raise ApiError(400, f"`job`: that is a describe job; {body.op} needs a grid", param="job")
    profile = found.catalog.get(source.model).profile()
    by = key.requester
    if isinstance(body, RerollJob):
        return reroll_spec(source, requested_by=by)
    if isinstance(body, UpscaleJob):
        return upscale_spec(source, body.index, profile, creative=body.creative, requested_by=by)
    if isinstance(body, VaryJob):
        strength = Strength.STRONG if body.strong else Strength.SUBTLE
        return vary_spec(source, body.index, strength, profile, requested_by=by)
    remix = (
        None if body.prompt is None else remixed(source.generation, parse_prompt(body.prompt), found.catalog)
    )
    match body:
        case ZoomJob():
            return zoom_spec(source, body.index, body.factor, remix=remix, requested_by=by)
        case PanJob():
            return pan_spec(source, body.index, body.direction, profile, remix=remix, requested_by=by)
        case SquareJob():
            return square_spec(source, body.index, profile, remix=remix, requested_by=by)
        case _:
            return region_spec(source, body.index, frozenset(body.cells), remix=remix, requested_by=by)


def _from_images(found: Services, key: ApiKey, body: BlendJob | DescribeJob) -> JobSpec:
    texts = body.images if isinstance(body, BlendJob) else [body.image]
    param = "images" if isinstance(body, BlendJob) else "image"
    decoded = []
    for number, text in enumerate(texts, start=1):
        try:
            decoded.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ApiError(
                400, f"`{param}`: image {number} is not base64", param=param, code="invalid_image"
            ) from None
    given = read_given(decoded, None, max_pixels=found.settings.api_max_image_pixels, param=param)
    if isinstance(body, BlendJob):
        blend_profile(found.catalog, body.model, len(decoded))  # refused before the images are stored
        refs, _ = stored(found.artifacts, given)
        return blend_spec(
            refs, found.catalog, dimensions=body.dimensions, model=body.model, requested_by=key.requester
        )
    model = found.catalog.captioning_model(body.model, key.limits.models)
    (ref,), _ = stored(found.artifacts, given)
    return describe_spec(model, ref, requested_by=key.requester)


def _param_of(body: JobRequest) -> str:
    """The field a refusal from our resolver (not the parser's, nor the catalog's) is about."""
    if isinstance(body, BlendJob | DescribeJob):
        return "model"  # one without an adapter, or without a captioner
    return {"zoom": "factor", "region": "cells"}.get(body.op, "index")
