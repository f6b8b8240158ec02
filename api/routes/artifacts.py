"""The images jobs made, by link: `/v1/artifacts/<job>/<name>`. The job's 128-bit random id is the
capability (as a signed link would be), so an image link works in a browser or an `<img>` without
the key, for as long as the image is kept."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.errors import ERRORS, ApiError
from api.images import CONTENT_TYPES, OutputFormat, encoded
from api.services import Found
from broker.artifacts import ArtifactExpiredError
from jobs import keys

router = APIRouter(tags=["Artifacts"])


@router.get(
    "/v1/artifacts/{job_id}/{name}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in CONTENT_TYPES.values()}}, 400: ERRORS[400], 404: ERRORS[404]},
    summary="An image a job made",
)
async def artifact(
    found: Found,
    job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    name: Annotated[str, Path(pattern=r"^(image-[1-4]|grid)$")],
    format: Annotated[OutputFormat, Query(description="png (as stored), webp or jpeg")] = "png",
) -> Response:
    try:
        data = await asyncio.to_thread(found.artifacts.get, keys.artifact_key(job_id, name))
    except ArtifactExpiredError:
        raise ApiError(404, "no such image, or it has expired", type="not_found_error") from None
    return Response(
        encoded(data, format),
        media_type=CONTENT_TYPES[format],
        headers={"Cache-Control": "private, max-age=86400"},
    )
