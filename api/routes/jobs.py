"""Native job endpoints: queue what the bot can (imagine, and upscale, vary and reroll of a grid),
read a job's state, follow its events live as Server-Sent Events, cancel one still waiting."""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ERRORS, ApiError, bad_request
from api.keys import ApiKey
from api.services import Found, Key, Services, public_base
from api.submissions import JobRecord
from api.views import JobView, job_view
from api.webhooks import checked_url
from broker.queues import UnknownJobError
from jobs import limits
from jobs.errors import MemberError
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs, random_seed, reroll_spec, upscale_spec, vary_spec
from jobs.specs import JobSpec, Strength

router = APIRouter(tags=["Jobs"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="a job's id")]


class JobRequest(BaseModel):
    """A new grid from a prompt (`imagine`), or a follow-up of one of this key's grids."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["imagine", "upscale", "vary", "reroll"]
    prompt: str | None = Field(default=None, min_length=1, max_length=4000, description="for imagine")
    job: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$", description="the grid, for a follow-up")
    index: int | None = Field(default=None, ge=1, le=limits.GRID_IMAGES, description="its image, 1-4")
    strong: bool = Field(default=False, description="vary: a strong variation rather than a subtle one")
    creative: bool = Field(default=False, description="upscale: the creative upscale rather than the subtle")
    webhook: str | None = Field(
        default=None,
        max_length=2048,
        description="an http(s) URL told of the job's `done` or `failed`, signed with the key's secret",
    )


@router.post(
    "/v1/jobs", status_code=202, response_model=list[JobView], responses=ERRORS, summary="Queue jobs"
)
async def create(
    body: JobRequest,
    request: Request,
    key: Key,
    found: Found,
    idempotency_key: str | None = Header(default=None, max_length=256),
) -> list[JobView]:
    """Queues the job (a prompt with `{a, b}` or `--repeat` makes several) and answers at once."""
    private_ok = found.settings.api_webhook_private_ok
    webhook = checked_url(body.webhook, key, private_ok=private_ok) if body.webhook else None
    specs = await asyncio.to_thread(_specs, found, key, body)
    base = public_base(found, request)
    records = await asyncio.to_thread(
        found.submissions.submit, key, specs, idempotency_key, webhook=webhook, base=base
    )
    return [await job_view(found, base, record) for record in records]


@router.get("/v1/jobs/{job_id}", response_model=JobView, responses=ERRORS, summary="A job's state")
async def read(job_id: JobId, request: Request, key: Key, found: Found) -> JobView:
    record = await asyncio.to_thread(found.submissions.record, key, job_id)
    return await job_view(found, public_base(found, request), record)


@router.delete(
    "/v1/jobs/{job_id}",
    response_model=JobView,
    responses={**ERRORS, 409: ERRORS[400]},
    summary="Cancel a queued job",
)
async def cancel(job_id: JobId, request: Request, key: Key, found: Found) -> JobView:
    """Cancels a job that has not started (409 once it has); its followers see it fail."""
    record = await asyncio.to_thread(found.submissions.record, key, job_id)
    if not await asyncio.to_thread(found.submissions.cancel, record):
        raise ApiError(409, f"job {job_id} has started or ended: it can no longer be cancelled", param="id")
    return await job_view(found, public_base(found, request), record)


async def _owned(job_id: JobId, key: Key, found: Found) -> JobRecord:
    """The key's job (404 before any event is streamed, for another key's or an unknown one)."""
    return await asyncio.to_thread(found.submissions.record, key, job_id)


@router.get(
    "/v1/jobs/{job_id}/events",
    response_class=EventSourceResponse,
    responses={**ERRORS, 200: {"description": "queued, started, progress (with a preview), done, failed"}},
    summary="A job's events, live",
)
async def events(
    record: Annotated[JobRecord, Depends(_owned)],
    found: Found,
    last_event_id: str | None = Header(default=None, pattern=r"^\d+-\d+$", max_length=64),
):
    """Server-Sent Events: `queued`, `started`, `progress` (a base64 JPEG preview), `done`, `failed`,
    each with its stream id; reconnect with `Last-Event-ID` to go on after the last one seen."""
    async for entry_id, event in found.hub.follow(record.job_id, last_event_id or record.after):
        yield ServerSentEvent(id=entry_id, event=event.kind, raw_data=event.model_dump_json())


def _specs(found: Services, key: ApiKey, body: JobRequest) -> list[JobSpec]:
    try:
        if body.op == "imagine":
            if body.prompt is None:
                raise ApiError(400, "`prompt`: imagine needs one", param="prompt")
            parsed = parse_prompt(body.prompt)
            if parsed.image_urls or parsed.style_refs:
                raise ApiError(400, "image links are not fetched here", param="prompt")
            specs = imagine_specs(parsed, found.catalog, seed=random_seed(), requested_by=key.requester)
        else:
            if body.job is None:
                raise ApiError(400, f"`job`: {body.op} needs the grid's job id", param="job")
            source = found.submissions.spec(key, body.job)
            profile = found.catalog.get(source.model).profile()
            index = body.index or 1
            if body.op == "upscale":
                specs = [
                    upscale_spec(source, index, profile, creative=body.creative, requested_by=key.requester)
                ]
            elif body.op == "vary":
                strength = Strength.STRONG if body.strong else Strength.SUBTLE
                specs = [vary_spec(source, index, strength, profile, requested_by=key.requester)]
            else:
                specs = [reroll_spec(source, requested_by=key.requester)]
    except UnknownJobError:
        raise ApiError(
            404, f"job {body.job} is unknown or has expired", type="not_found_error", param="job"
        ) from None
    except MemberError as error:
        raise bad_request(error, "prompt" if body.op == "imagine" else "index") from None
    return [found.submissions.shape(key, spec) for spec in specs]
