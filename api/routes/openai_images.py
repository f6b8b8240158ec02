"""OpenAI's image endpoints, so the official `openai` client works by changing `base_url`:
generations; edits (with a mask, our region repaint of the mask's area; without, image prompts);
variations. Prompts go through our parser: `--ar`, `--seed`, `--no` and the rest work here too."""

import asyncio
import base64
import time
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from pydantic import BaseModel

from api.errors import ERRORS, ApiError, ErrorResponse, bad_request
from api.events import EventHub
from api.images import OutputFormat, encoded
from api.keys import ApiKey
from api.openai_params import (
    EditForm,
    GenerationRequest,
    ImageOptions,
    PromptedOptions,
    VariationForm,
    aspect,
    quality_flag,
    refuse_unsupported,
)
from api.services import Found, Key, Services, artifact_url, public_base
from api.submissions import CANCELLED, Asked
from api.uploads import read_given, stored
from jobs.errors import MemberError
from jobs.events import Done, Failed
from jobs.prompt import ParsedPrompt, PromptError, PromptPart, parse_prompt
from jobs.resolve import imagine_specs, inpaint_spec, random_seed
from jobs.sizing import aspect_of
from jobs.specs import JobSpec, UploadRef
from models.catalog import UnknownModelError

router = APIRouter(tags=["OpenAI-compatible"])

VARIATION_WEIGHT = 2.0
"""A variation is its image as an image prompt at this `--iw`, with no words: close to it."""

_RESPONSES = {
    **ERRORS,
    500: {"model": ErrorResponse, "description": "the job failed on its worker; the message says why"},
    504: {"model": ErrorResponse, "description": "the job did not finish in time; it goes on"},
}


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


@router.post(
    "/v1/images/generations",
    response_model=ImagesResponse,
    responses=_RESPONSES,
    summary="Create images (OpenAI's images.generate)",
)
async def generate(
    body: GenerationRequest,
    request: Request,
    key: Key,
    found: Found,
    idempotency_key: str | None = Header(default=None, max_length=256),
) -> ImagesResponse:
    refuse_unsupported(body)
    specs = await asyncio.to_thread(_resolved, found, key, body, lambda: _prompted(body, None))
    asked = Asked.of("generations", body)
    return await _answered(found, request, key, body, specs, (idempotency_key, asked))


@router.post(
    "/v1/images/edits",
    response_model=ImagesResponse,
    responses=_RESPONSES,
    summary="Edit an image (OpenAI's images.edit)",
)
async def edit(
    form: Annotated[EditForm, Form()],
    request: Request,
    key: Key,
    found: Found,
    idempotency_key: str | None = Header(default=None, max_length=256),
) -> ImagesResponse:
    """With a `mask`: the image repainted where the mask is transparent, the rest kept. Without:
    the images as image prompts (`--iw`), each grid image starting from one of them."""
    refuse_unsupported(form)
    images = [await upload.read() for upload in form.image]
    mask = await form.mask.read() if form.mask is not None else None
    specs = await asyncio.to_thread(_edit_specs, found, key, form, images, mask)
    asked = Asked.of("edits", form, [*images, *([mask] if mask else [])])
    return await _answered(found, request, key, form, specs, (idempotency_key, asked))


@router.post(
    "/v1/images/variations",
    response_model=ImagesResponse,
    responses=_RESPONSES,
    summary="Variations of an image (OpenAI's images.create_variation)",
)
async def variation(
    form: Annotated[VariationForm, Form()],
    request: Request,
    key: Key,
    found: Found,
    idempotency_key: str | None = Header(default=None, max_length=256),
) -> ImagesResponse:
    refuse_unsupported(form)
    image = await form.image.read()
    specs = await asyncio.to_thread(_variation_specs, found, key, form, image)
    asked = Asked.of("variations", form, [image])
    return await _answered(found, request, key, form, specs, (idempotency_key, asked))


def _edit_specs(
    found: Services, key: ApiKey, form: EditForm, images: list[bytes], mask: bytes | None
) -> list[JobSpec]:
    given = read_given(images, mask, max_pixels=found.settings.api_max_image_pixels)
    fidelity = ["--iw 2"] if form.input_fidelity == "high" and given.mask is None else []

    def parsed() -> ParsedPrompt:
        return _prompted(form, given.images[0].size, fidelity)

    return _resolved(found, key, form, parsed, given_refs=lambda: stored(found.artifacts, given))


def _variation_specs(found: Services, key: ApiKey, form: VariationForm, image: bytes) -> list[JobSpec]:
    given = read_given([image], None, max_pixels=found.settings.api_max_image_pixels)

    def parsed() -> ParsedPrompt:
        shape = aspect(form.size) or aspect_of(*given.images[0].size)
        return ParsedPrompt(
            parts=(PromptPart(text=""),), aspect=shape, model=form.model, image_weight=VARIATION_WEIGHT
        )

    return _resolved(found, key, form, parsed, given_refs=lambda: stored(found.artifacts, given))


def _prompted(
    body: PromptedOptions, image_size: tuple[int, int] | None, extra: Sequence[str] = ()
) -> ParsedPrompt:
    """The prompt with the request's `model`, `size` and `quality` as its own flags (and, with an
    image and neither, the image's aspect ratio), read by our parser, which checks them as it
    checks a member's."""
    given = parse_prompt(body.prompt)
    flags = [*extra, *quality_flag(body.quality)]
    if body.model is not None:
        if given.model is not None and given.model != body.model:
            raise ApiError(400, f"`model` is {body.model}, the prompt's --model {given.model}", param="model")
        flags.append(f"--model {body.model}")
    shape = aspect(body.size)
    if shape is not None and given.aspect is not None:
        raise ApiError(400, "give the aspect ratio once: `size` or the prompt's --ar", param="size")
    if shape is None and given.aspect is None and image_size is not None:
        shape = aspect_of(*image_size)
    if shape is not None:
        flags.append(f"--ar {shape[0]}:{shape[1]}")
    parsed = parse_prompt(" ".join([body.prompt, *flags])) if flags else given
    if parsed.image_urls or parsed.style_refs or parsed.references:
        raise ApiError(400, "image links are not fetched by this endpoint", param="prompt")
    if parsed.repeat > 1:
        raise ApiError(400, "`--repeat` makes several grids: ask /v1/jobs for each", param="prompt")
    return parsed


def _resolved(
    found: Services,
    key: ApiKey,
    body: ImageOptions,
    parsed: Callable[[], ParsedPrompt],
    given_refs: Callable[[], tuple[tuple[UploadRef, ...], UploadRef | None]] | None = None,
) -> list[JobSpec]:
    """The job for the request, held to the key's limits; our parser's and resolver's refusals as
    400s naming the field."""
    try:
        prompt = parsed()
        images, mask = given_refs() if given_refs else ((), None)
        if mask is not None:
            specs = [inpaint_spec(prompt, found.catalog, images[0], mask, requested_by=key.requester)]
        else:
            specs = imagine_specs(
                prompt, found.catalog, seed=random_seed(), requested_by=key.requester, images=images
            )
    except UnknownModelError as error:
        raise bad_request(error, "model" if body.model else "prompt") from None
    except PromptError as error:
        raise bad_request(error, "size" if body.size and "--ar" in error.reply else "prompt") from None
    except MemberError as error:
        raise bad_request(error) from None
    return [found.submissions.shape(key, spec) for spec in specs]


async def _answered(
    found: Services,
    request: Request,
    key: ApiKey,
    body: ImageOptions,
    specs: list[JobSpec],
    idempotency: tuple[str | None, Asked],
) -> ImagesResponse:
    """Queues the job (once per `Idempotency-Key` and request), waits for it, and answers OpenAI's
    way: the first `n` images of its grid."""
    idempotency_key, asked = idempotency
    records = await asyncio.to_thread(found.submissions.submit, key, specs, idempotency_key, asked=asked)
    done = await finished(found.hub, records[0].job_id, records[0].after, found.settings.api_wait_seconds)
    output_format = body.output_format or "png"
    data = []
    for ref in done.images[: body.n]:
        if body.response_format == "url":
            data.append(ImageData(url=artifact_url(public_base(found, request), ref.key, output_format)))
        else:
            image = await asyncio.to_thread(_encoded, found, ref.key, body)
            data.append(ImageData(b64_json=base64.b64encode(image).decode()))
    first = done.images[0]
    return ImagesResponse(
        created=int(time.time()),
        data=data,
        output_format=output_format,
        size=f"{first.width}x{first.height}",
        quality=(body.quality if isinstance(body, PromptedOptions) else None) or "auto",
    )


def _encoded(found: Services, key: str, body: ImageOptions) -> bytes:
    return encoded(found.artifacts.get(key), body.output_format or "png", body.output_compression)


async def finished(hub: EventHub, job_id: str, after: str, timeout: float) -> Done:
    """The job's `done`, or its failure as an error answer."""
    try:
        async with asyncio.timeout(timeout):
            async for _, event in hub.follow(job_id, after):
                if isinstance(event, Done):
                    return event
                if isinstance(event, Failed) and event.reason == CANCELLED:
                    raise ApiError(409, f"job {job_id} was cancelled", code="job_cancelled")
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
