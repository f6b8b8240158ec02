"""Images members give (attachments and links), fetched by the bot alone and stored for the
workers, which never fetch from the internet."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from bot.requests.fetch import ImageFetcher
from broker.artifacts import ArtifactStore
from jobs import limits
from jobs.errors import MemberError
from jobs.resolve import new_job_id
from jobs.specs import UploadRef


class TooManyImages(MemberError, ValueError):
    """A request names more different images than one request may store; the message says so."""


@dataclass(frozen=True)
class Given:
    """One image to fetch: an interaction's attachment (with the size Discord reports) or a link."""

    url: str
    name: str
    """How the member's messages name it: "the attachment `cat.png`", "the link …"."""
    size: int | None = None


@dataclass(frozen=True)
class Wanted:
    """The images one prompt (of a request's `{…}` combinations) draws on: the request's
    attachments, then the links this prompt names, as image prompts and as style references."""

    images: Sequence[Given]
    styles: Sequence[Given]


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

    async def store_each(
        self, wanted: Sequence[Wanted]
    ) -> list[tuple[tuple[UploadRef, ...], tuple[UploadRef, ...]]]:
        """Each prompt's image prompts and style references, stored: an image two prompts share
        (an attachment, or the same link) is fetched once. TooManyImages past `limits.UPLOADS_MAX`."""
        unique = list(dict.fromkeys(one for each in wanted for one in (*each.images, *each.styles)))
        if len(unique) > limits.UPLOADS_MAX:
            raise TooManyImages(
                f"That's {len(unique)} different images in one request: give at most {limits.UPLOADS_MAX}"
                " (links in `{{…}}` options count once each)"
            )
        stored = dict(zip(unique, await self.store(unique) if unique else (), strict=True))
        return [
            (tuple(stored[one] for one in each.images), tuple(stored[one] for one in each.styles))
            for each in wanted
        ]

    def _put(self, refs: Sequence[UploadRef], images: Sequence[Image.Image]) -> None:
        for ref, image in zip(refs, images, strict=True):
            self._artifacts.put_upload(ref, image)

    async def close(self) -> None:
        await self._fetcher.close()
