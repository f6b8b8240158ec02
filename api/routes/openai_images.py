"""OpenAI's image generation endpoint, so the official `openai` client works by changing `base_url`.
The prompt goes through our parser: `--ar`, `--seed`, `--no` and the rest work here too."""

import asyncio
import base64
import math
import re
import time
from typing import Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ERRORS, ApiError, bad_request
from api.events import EventHub
from api.images import OutputFormat, encoded
from api.keys import ApiKey
from api.services import Found, Key, Services, artifact_url
from jobs import limits
from jobs.errors import MemberError
from jobs.events import Done, Failed
from jobs.prompt import PromptError, parse_prompt
from jobs.resolve import imagine_specs, random_seed
from jobs.specs import JobSpec
from models.catalog import UnknownModelError

router = APIRouter(tags=["OpenAI-compatible"])

_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_QUALITY = {"low": 0.5, "medium": 1.0, "standard": 1.0, "auto": 1.0, "high": 2.0, "hd": 2.0}
"""OpenAI's `quality` as our `--q` (sampling steps × q)."""


class GenerationRequest(BaseModel):
    """OpenAI's `POST /v1/images/generations` body. A field we cannot honour is refused, never
    ignored."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(
        min_length=1, max_length=4000, description="with our parameters: `--ar 16:9 --seed 7`"
    )
    model: str | None = Field(default=None, description="a catalog model (default: the catalog's)")
    n: int = Field(default=1, ge=1, le=limits.GRID_IMAGES, description="images: the first n of one grid")
    size: str | None = Field(
        default=None, description="`auto` or WIDTHxHEIGHT: its aspect ratio at the model's own size"
    )
    quality: Literal["auto", "low", "medium", "high", "standard", "hd"] | None = None
    response_format: Literal["b64_json", "url"] | None = None
    output_format: OutputFormat | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    background: Literal["auto", "opaque", "transparent"] | None = None
    moderation: Literal["auto", "low"] | None = None
    style: Literal["vivid", "natural"] | None = None
    stream: bool | None = None
    partial_images: int | None = Field(default=None, ge=0, le=3)
    user: str | None = Field(default=None, max_length=256, description="logged with the job")


class ImageData(BaseModel):
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class ImagesResponse(BaseModel):
    created: int
    data: list[ImageData]
    output_format: OutputFormat
    size: str
    quality: str


def _unsupported(request: GenerationRequest) -> None:
    refusals = {
        "background": request.background == "transparent" and "transparent backgrounds are not drawn here",
        "moderation": request.moderation == "low" and "this server's NSFW policy applies to every job",
        "style": request.style is not None and "`style` is DALL·E 3's: describe the style in the prompt",
        "stream": bool(request.stream) and "streaming is not offered here: use /v1/jobs/{id}/events",
        "partial_images": bool(request.partial_images)
        and "partial images come as /v1/jobs/{id}/events previews",
        "output_compression": request.output_compression is not None
        and (request.output_format or "png") == "png"
        and "output_compression needs output_format webp or jpeg",
    }
    for param, refusal in refusals.items():
        if refusal:
            raise ApiError(400, f"`{param}`: {refusal}", param=param, code="unsupported_value")


def _aspect(size: str | None) -> tuple[int, int] | None:
    if size in (None, "auto"):
        return None
    found = _SIZE.match(size)
    if not found or not all(int(side) for side in found.groups()):
        raise ApiError(400, f"`size` {size!r}: give auto or WIDTHxHEIGHT, like 1024x1536", param="size")
    width, height = (int(side) for side in found.groups())
    common = math.gcd(width, height)
    return width // common, height // common


@router.post(
    "/v1/images/generations",
    response_model=ImagesResponse,
    responses={**ERRORS, 504: ERRORS[404] | {"description": "the job did not finish in time"}},
    summary="Create images (OpenAI's images.generate)",
)
async def generate(
    body: GenerationRequest,
    request: Request,
    key: Key,
    found: Found,
    idempotency_key: str | None = Header(default=None, max_length=256),
) -> ImagesResponse:
    _unsupported(body)
    specs = await asyncio.to_thread(_specs, found, key, body)
    records = await asyncio.to_thread(found.submissions.submit, key, specs, idempotency_key)
    done = await finished(found.hub, records[0].job_id, records[0].after, found.settings.api_wait_seconds)
    output_format = body.output_format or "png"
    data = []
    for ref in done.images[: body.n]:
        if body.response_format == "url":
            data.append(ImageData(url=artifact_url(found, request, ref.key, output_format)))
        else:
            stored = await asyncio.to_thread(found.artifacts.get, ref.key)
            image = encoded(stored, output_format, body.output_compression)
            data.append(ImageData(b64_json=base64.b64encode(image).decode()))
    first = done.images[0]
    return ImagesResponse(
        created=int(time.time()),
        data=data,
        output_format=output_format,
        size=f"{first.width}x{first.height}",
        quality=body.quality or "auto",
    )


def _specs(found: Services, key: ApiKey, body: GenerationRequest) -> list[JobSpec]:
    """The prompt with the request's `model`, `size` and `quality` as its own flags, read by our
    parser (which checks them as it checks a member's), once each."""
    try:
        given = parse_prompt(body.prompt)
        flags = []
        if body.model is not None:
            if given.model is not None and given.model != body.model:
                raise ApiError(
                    400, f"`model` is {body.model}, the prompt's --model {given.model}", param="model"
                )
            flags.append(f"--model {body.model}")
        if (aspect := _aspect(body.size)) is not None:
            if given.aspect is not None:
                raise ApiError(400, "give the aspect ratio once: `size` or the prompt's --ar", param="size")
            flags.append(f"--ar {aspect[0]}:{aspect[1]}")
        if body.quality is not None:
            flags.append(f"--q {_QUALITY[body.quality]:g}")
        parsed = parse_prompt(" ".join([body.prompt, *flags])) if flags else given
        if parsed.image_urls or parsed.style_refs:
            raise ApiError(400, "image links are not fetched by this endpoint", param="prompt")
        if parsed.repeat > 1:
            raise ApiError(400, "`--repeat` makes several grids: ask /v1/jobs for each", param="prompt")
        specs = imagine_specs(parsed, found.catalog, seed=random_seed(), requested_by=key.requester)
    except UnknownModelError as error:
        raise bad_request(error, "model" if body.model else "prompt") from None
    except PromptError as error:
        raise bad_request(error, "size" if body.size and "--ar" in error.reply else "prompt") from None
    except MemberError as error:
        raise bad_request(error) from None
    return [found.submissions.shape(key, spec) for spec in specs]


async def finished(hub: EventHub, job_id: str, after: str, timeout: float) -> Done:
    """The job's `done`, or its failure as an error answer."""
    try:
        async with asyncio.timeout(timeout):
            async for _, event in hub.follow(job_id, after):
                if isinstance(event, Done):
                    return event
                if isinstance(event, Failed):
                    raise ApiError(500, event.reason, type="server_error", code="job_failed")
    except TimeoutError:
        raise ApiError(
            504,
            f"job {job_id} did not finish in {timeout:.0f} s; it goes on: GET /v1/jobs/{job_id}",
            type="server_error",
            code="timeout",
        ) from None
    raise AssertionError("follow() ends with done or failed")
