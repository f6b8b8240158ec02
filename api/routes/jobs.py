"""Native job endpoints: queue what the bot can (`api.job_requests`), read a job's state, follow
its events live as Server-Sent Events, cancel one still waiting."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.errors import ERRORS, ApiError, json_errors
from api.job_requests import JobRequest, job_specs
from api.services import Found, Key, public_base
from api.submissions import Asked, JobRecord
from api.views import JobView, job_view
from api.webhooks import checked_url

router = APIRouter(tags=["Jobs"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="a job's id")]


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
    specs = await asyncio.to_thread(job_specs, found, key, body)
    base = public_base(found, request)
    records = await asyncio.to_thread(
        found.submissions.submit,
        key,
        specs,
        idempotency_key,
        asked=Asked.of("jobs", body),
        webhook=webhook,
        base=base,
    )
    return [await job_view(found, base, record) for record in records]


@router.get("/v1/jobs/{job_id}", response_model=JobView, responses=ERRORS, summary="A job's state")
async def read(job_id: JobId, request: Request, key: Key, found: Found) -> JobView:
    record = await asyncio.to_thread(found.submissions.record, key, job_id)
    return await job_view(found, public_base(found, request), record)


@router.delete(
    "/v1/jobs/{job_id}",
    response_model=JobView,
    responses=ERRORS,
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
    responses={
        **json_errors(*ERRORS),
        200: {"description": "queued, started, progress (with a preview), done, failed"},
    },
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
