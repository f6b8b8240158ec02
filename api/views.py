"""A job as the API shows it (`GET /v1/jobs/{id}`, the answer to `POST /v1/jobs`, a webhook's
body): its state read from its events so far, and its queue place while it waits."""

import asyncio
from typing import Literal

from pydantic import BaseModel, Field

from api.services import Services, artifact_url
from api.submissions import CANCELLED, JobRecord
from jobs.events import Done, Event, Failed, Progress, Queued, Started


class JobView(BaseModel):
    id: str
    op: str
    status: Literal["queued", "started", "done", "failed", "cancelled"]
    position: int | None = Field(default=None, description="1 = next to start; while queued")
    progress: int | None = Field(default=None, description="percent of the steps done; while started")
    seeds: list[int] = []
    images: list[str] = Field(default=[], description="links to the images")
    grid: str | None = Field(default=None, description="link to the 2×2 grid")
    warnings: list[str] = []
    prompts: list[str] = Field(default=[], description="what a describe job wrote")
    error: str | None = Field(default=None, description="why it failed")
    created: float


async def job_view(found: Services, base: str, record: JobRecord) -> JobView:
    """The job's state, its links under `base` (the API's public address)."""
    last: dict[type, Event] = {}
    async for _, event in found.hub.stored(record.job_id, record.after):
        last[type(event)] = event
    view = JobView(id=record.job_id, op=record.op, status="queued", created=record.created)
    if done := last.get(Done):
        return view.model_copy(
            update={
                "status": "done",
                "seeds": list(done.seeds),
                "images": [artifact_url(base, ref.key) for ref in done.images],
                "grid": artifact_url(base, done.grid.key) if done.grid else None,
                "warnings": list(done.warnings),
                "prompts": list(done.prompts),
            }
        )
    if failed := last.get(Failed):
        status = "cancelled" if failed.reason == CANCELLED else "failed"
        return view.model_copy(update={"status": status, "error": failed.reason})
    if last.get(Started):
        progress = last.get(Progress)
        return view.model_copy(update={"status": "started", "progress": progress.percent if progress else 0})
    spec = await asyncio.to_thread(found.submissions.spec_of, record.job_id)
    position = await asyncio.to_thread(found.submissions.position, spec.model, record.job_id)
    queued = last.get(Queued)
    return view.model_copy(update={"position": position or (queued.position if queued else None)})
