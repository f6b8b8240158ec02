"""The images follow-ups start from: stored by the worker (or, for a member's own, by the bot), or
once expired, cut again from the message the button is on."""

import asyncio

import discord
from PIL import Image

from bot.rules.policy import Refusal
from broker.artifacts import ArtifactStore, image_name
from broker.images import cut_image
from broker.uploads import UploadError, read_image
from jobs import limits
from jobs.resolve import image_count, image_size
from jobs.specs import (
    BlendSpec,
    DescribeSpec,
    FromImageSpec,
    ImageRef,
    ImageSpec,
    ImagineSpec,
    JobSpec,
    RerollSpec,
    UploadRef,
)

_COPY_LIMIT = 25 * 1024 * 1024
"""Bytes Discord takes in one upload: a larger attachment is not a result the bot posted."""


class SourceImages:
    def __init__(self, artifacts: ArtifactStore) -> None:
        self._artifacts = artifacts

    async def restore(self, source: ImageSpec, index: int, message: discord.Message | None) -> None:
        """Makes sure image `index` of `source` is stored: once expired, it is cut from the message's
        attachment (the grid, or the single upscaled image)."""
        if await asyncio.to_thread(self._artifacts.has_image, source.job_id, index):
            return
        data = await _posted_copy(message)
        try:
            await asyncio.to_thread(self._store_tile, source, index, data)
        except (OSError, ValueError, Image.DecompressionBombError) as error:  # unreadable, or too big
            raise Refusal(_UNREADABLE) from error

    async def restore_upload(self, ref: UploadRef, message: discord.Message | None) -> None:
        """Makes sure the member's image `ref` is stored: once expired, it is read again from the
        message's attachment (a `/describe` result shows the image it describes)."""
        if await asyncio.to_thread(self._artifacts.has_upload, ref):
            return
        data = await _posted_copy(message)
        try:
            image = await asyncio.to_thread(read_image, data, max_pixels=limits.UPLOAD_STORED_SIDE**2)
        except UploadError as error:
            raise Refusal(_UNREADABLE) from error
        await asyncio.to_thread(self._artifacts.put_upload, ref, image)

    async def ensure_stored(self, ref: ImageRef) -> None:
        """Refuses a job whose source image has expired (a retried upscale or variation)."""
        if not await asyncio.to_thread(self._artifacts.has_image, ref.job_id, ref.index):
            raise Refusal("The image this job started from has expired: click its button again.")

    async def ensure_inputs(self, spec: JobSpec) -> None:
        """Refuses to run `spec` again when an image it starts from has expired: its source image,
        or the images the member gave."""
        if isinstance(spec, FromImageSpec):
            await self.ensure_stored(spec.source)
        given: tuple[UploadRef, ...] = ()
        match spec:
            case DescribeSpec():
                given = (spec.image,)
            case BlendSpec():
                given = spec.images
            case ImagineSpec() | RerollSpec():
                given = spec.images + spec.style_images
        for ref in given:
            if not await asyncio.to_thread(self._artifacts.has_upload, ref):
                raise Refusal("The images this job started from have expired: give them again.")

    def _store_tile(self, source: ImageSpec, index: int, data: bytes) -> None:
        count, size = image_count(source), image_size(source)
        posted = (size[0] * 2, size[1] * 2) if count > 1 else size  # the grid, or the one image
        image = cut_image(data, index, count, largest=posted)
        if image.size != size:  # the posted copy was shrunk to fit Discord's upload limit
            image = image.resize(size)
        self._artifacts.put_image(source.job_id, image_name(index), image)


_UNREADABLE = "The image behind this button has expired, and the copy here is unreadable."


async def _posted_copy(message: discord.Message | None) -> bytes:
    """The bytes of the image attached to the bot's `message`, for an expired image it shows."""
    attachment = message.attachments[0] if message and message.attachments else None
    if attachment is None:
        raise Refusal("The image behind this button has expired, and this message has no copy of it.")
    if attachment.size > _COPY_LIMIT:
        raise Refusal("The image behind this button has expired, and the copy here is not one I posted.")
    try:
        return await attachment.read()
    except (discord.HTTPException, OSError) as error:
        raise Refusal(
            "The image behind this button has expired and could not be downloaded again."
        ) from error
