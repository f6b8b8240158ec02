"""What `POST /v1/jobs` takes, for everything the bot can do, and the job specs it makes: a new
grid from a prompt, a follow-up of one of the key's grids (upscale, vary, reroll, zoom, pan,
square, region, with a new prompt where the bot's Remix takes one), or a job from the client's
images (blend, describe), each held to the key's limits."""

import base64
import binascii
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.errors import ApiError, bad_request
from api.keys import ApiKey
from api.services import Services
from api.uploads import read_given, stored
from broker.queues import UnknownJobError
from jobs import limits
from jobs.errors import MemberError
from jobs.prompt import parse_prompt
from jobs.resolve import (
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

FOLLOW_UPS = ("upscale", "vary", "reroll", "zoom", "pan", "square", "region")
FROM_IMAGES = ("blend", "describe")


class JobRequest(BaseModel):
    """A new grid from a prompt (`imagine`), a follow-up of one of this key's grids, or a job from
    images the request carries (`blend`, `describe`)."""

    model_config = ConfigDict(extra="forbid")

    op: Literal[
        "imagine", "upscale", "vary", "reroll", "zoom", "pan", "square", "region", "blend", "describe"
    ]
    prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.MAX_PROMPT_CHARS,
        description="imagine's; for zoom, pan, square and region, a new prompt (as Remix)",
    )
    job: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$", description="the grid, for a follow-up")
    index: int | None = Field(default=None, ge=1, le=limits.GRID_IMAGES, description="its image, 1-4")
    strong: bool = Field(default=False, description="vary: a strong variation rather than a subtle one")
    creative: bool = Field(default=False, description="upscale: the creative upscale rather than the subtle")
    factor: float = Field(default=limits.ZOOM_MAX, description="zoom: how far out, more than 1 and at most 2")
    direction: Direction | None = Field(default=None, description="pan: the side the canvas grows")
    cells: list[int] = Field(
        default=[],
        max_length=limits.REGION_CELLS,
        description="region: the cells to repaint, 1-9 of a 3×3 grid",
    )
    images: list[str] = Field(
        default=[],
        max_length=limits.IMAGE_PROMPTS_MAX,
        description="blend (2-5) or describe (1): base64 PNG, JPEG, WebP or GIF",
    )
    model: str | None = Field(
        default=None, description="blend or describe: the model (default: the catalog's)"
    )
    dimensions: Literal["portrait", "square", "landscape"] = Field(default="square", description="blend's")
    webhook: str | None = Field(
        default=None,
        max_length=2048,
        description="an http(s) URL told of the job's `done` or `failed`, signed with the key's secret",
    )


def job_specs(found: Services, key: ApiKey, body: JobRequest) -> list[JobSpec]:
    """The jobs `body` asks for, shaped to `key`; our resolver's refusals as 400s naming the field."""
    try:
        if body.op == "imagine":
            specs = _imagined(found, key, body)
        elif body.op in FROM_IMAGES:
            specs = [_from_images(found, key, body)]
        else:
            specs = [_followed_up(found, key, body)]
    except UnknownJobError:
        raise ApiError(
            404, f"job {body.job} is unknown or has expired", type="not_found_error", param="job"
        ) from None
    except MemberError as error:
        raise bad_request(error, _param_of(body)) from None
    return [found.submissions.shape(key, spec) for spec in specs]


def _imagined(found: Services, key: ApiKey, body: JobRequest) -> list[JobSpec]:
    if body.prompt is None:
        raise ApiError(400, "`prompt`: imagine needs one", param="prompt")
    parsed = parse_prompt(body.prompt)
    if parsed.image_urls or parsed.style_refs:
        raise ApiError(400, "image links are not fetched here: blend takes `images`", param="prompt")
    return list(imagine_specs(parsed, found.catalog, seed=random_seed(), requested_by=key.requester))


def _followed_up(found: Services, key: ApiKey, body: JobRequest) -> JobSpec:
    if body.job is None:
        raise ApiError(400, f"`job`: {body.op} needs the grid's job id", param="job")
    source = found.submissions.spec(key, body.job)
    if isinstance(source, DescribeSpec):
        raise ApiError(400, f"`job`: that is a describe job; {body.op} needs a grid", param="job")
    profile = found.catalog.get(source.model).profile()
    index, by = body.index or 1, key.requester
    remix = None
    if body.prompt is not None:
        if body.op not in ("zoom", "pan", "square", "region"):
            raise ApiError(400, f"`prompt`: {body.op} keeps its image's prompt", param="prompt")
        remix = remixed(source.generation, parse_prompt(body.prompt), found.catalog)
    match body.op:
        case "upscale":
            return upscale_spec(source, index, profile, creative=body.creative, requested_by=by)
        case "vary":
            strength = Strength.STRONG if body.strong else Strength.SUBTLE
            return vary_spec(source, index, strength, profile, requested_by=by)
        case "reroll":
            return reroll_spec(source, requested_by=by)
        case "zoom":
            return zoom_spec(source, index, body.factor, remix=remix, requested_by=by)
        case "pan":
            if body.direction is None:
                raise ApiError(400, "`direction`: pan needs left, right, up or down", param="direction")
            return pan_spec(source, index, body.direction, profile, remix=remix, requested_by=by)
        case "square":
            return square_spec(source, index, profile, remix=remix, requested_by=by)
        case _:
            return region_spec(source, index, frozenset(body.cells), remix=remix, requested_by=by)


def _from_images(found: Services, key: ApiKey, body: JobRequest) -> JobSpec:
    wanted = (limits.BLEND_MIN, limits.IMAGE_PROMPTS_MAX) if body.op == "blend" else (1, 1)
    if not wanted[0] <= len(body.images) <= wanted[1]:
        many = f"{wanted[0]}-{wanted[1]} images" if body.op == "blend" else "one image"
        raise ApiError(400, f"`images`: {body.op} takes {many}", param="images")
    if body.prompt is not None:
        raise ApiError(400, f"`prompt`: {body.op} takes images, not words", param="prompt")
    decoded = []
    for number, text in enumerate(body.images, start=1):
        try:
            decoded.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ApiError(400, f"`images`: image {number} is not base64", param="images") from None
    given = read_given(decoded, None, max_pixels=found.settings.api_max_image_pixels, param="images")
    if body.op == "blend":
        found.catalog.get(body.model)  # an unknown model is refused before the images are stored
        refs, _ = stored(found.artifacts, given)
        return blend_spec(
            refs, found.catalog, dimensions=body.dimensions, model=body.model, requested_by=key.requester
        )
    model = found.catalog.captioning_model(body.model, key.limits.models)
    (ref,), _ = stored(found.artifacts, given)
    return describe_spec(model, ref, requested_by=key.requester)


def _param_of(body: JobRequest) -> str:
    """The field a refusal from our resolver is about."""
    if body.op == "imagine" or (body.prompt is not None and body.op in ("zoom", "pan", "square", "region")):
        return "prompt"
    return {"zoom": "factor", "region": "cells", "blend": "model", "describe": "model"}.get(body.op, "index")
