"""Images members give (attachments and links), fetched by the bot alone and stored for the
workers, which never fetch from the internet."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from bot.requests.fetch import ImageFetcher
from broker.artifacts import ArtifactStore
from jobs.resolve import new_job_id
from jobs.specs import UploadRef


@dataclass(frozen=True)
class Given:
    """One image to fetch: an interaction's attachment (with the size Discord reports) or a link."""

    url: str
    name: str
    """How the member's messages name it: "the attachment `cat.png`", "the link …"."""
    size: int | None = None


class Uploads:
    def __init__(self, fetcher: ImageFetcher, artifacts: ArtifactStore) -> None:
        self._fetcher = fetcher
        self._artifacts = artifacts

    async def store(self, given: Sequence[Given]) -> tuple[UploadRef, ...]:
        """Fetches each image (refusing, with a `FetchError` or an `UploadError`, any that is not
        safe to use) and stores it; returns where they are, in order."""
        images = await asyncio.gather(
            *(self._fetcher.fetch(one.url, declared_size=one.size, what=one.name) for one in given)
        )
        upload_id = new_job_id()  # of the same form
        refs = tuple(UploadRef(upload_id=upload_id, index=n) for n in range(1, len(images) + 1))
        await asyncio.to_thread(self._put, refs, images)
        return refs

    def _put(self, refs: Sequence[UploadRef], images: Sequence[Image.Image]) -> None:
        for ref, image in zip(refs, images, strict=True):
            self._artifacts.put_upload(ref, image)

    async def close(self) -> None:
        await self._fetcher.close()
