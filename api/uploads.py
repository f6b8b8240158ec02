"""Images a client sends (edits, variations): read as untrusted bytes, as the bot reads a member's,
and stored for the worker, which reads them again."""

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from api.errors import ApiError
from broker.artifacts import ArtifactStore
from broker.uploads import UploadError, read_image, read_mask
from jobs.resolve import new_job_id
from jobs.specs import UploadRef


@dataclass(frozen=True)
class Given:
    """The client's images and mask as read, before they are stored."""

    images: list[Image.Image]
    mask: Image.Image | None = None


def read_given(images: list[bytes], mask: bytes | None, *, max_pixels: int, param: str = "image") -> Given:
    """The images (as many as the request's schema lets through; one with a mask) and the mask,
    or a 400 naming the field to change (the images': `param`)."""
    if mask is not None and len(images) > 1:
        raise ApiError(
            400, "`mask`: a mask edits one image; give one image with it", param="mask", code="invalid_mask"
        )
    read = [_read(read_image, data, max_pixels, param, f"image {n}") for n, data in enumerate(images, 1)]
    if mask is None:
        return Given(read)
    repaint = _read(read_mask, mask, max_pixels, "mask", "the mask")
    if repaint.size != read[0].size:
        raise ApiError(
            400,
            f"`mask`: it is {repaint.width}×{repaint.height}, the image {read[0].width}×{read[0].height};"
            " give them the same size",
            param="mask",
            code="invalid_mask",
        )
    if repaint.getbbox() is None:
        raise ApiError(
            400,
            "`mask`: nothing in it is transparent, so there is nothing to repaint",
            param="mask",
            code="invalid_mask",
        )
    return Given(read, repaint)


def stored(artifacts: ArtifactStore, given: Given) -> tuple[tuple[UploadRef, ...], UploadRef | None]:
    """Stores the images (and the mask after them) for the worker: their references."""
    upload_id = new_job_id()
    refs = []
    for index, image in enumerate([*given.images, *([given.mask] if given.mask else [])], start=1):
        ref = UploadRef(upload_id=upload_id, index=index)
        artifacts.put_upload(ref, image)
        refs.append(ref)
    if given.mask is None:
        return tuple(refs), None
    return tuple(refs[:-1]), refs[-1]


def _read(
    reader: Callable[..., Image.Image], data: bytes, max_pixels: int, param: str, what: str
) -> Image.Image:
    try:
        return reader(data, max_pixels=max_pixels, what=what)
    except UploadError as error:
        raise ApiError(400, f"`{param}`: {error}", param=param, code="invalid_image") from None
