"""Uploaded files as Discord attachments: sniffed content type, image size, and a URL on the emulator."""

import io
import mimetypes
import warnings
from typing import Any
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError

from emulator.bodies import Upload
from emulator.responses import DiscordError
from emulator.uploads import OCTET_STREAM
from emulator.uploads import Upload as OptionUpload

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
"""Discord's per-file limit in a server without boosts (since 2025-01-16)."""


def check_sizes(uploads: list[Upload], limit: int) -> None:
    if any(len(upload.data) > limit for upload in uploads):
        raise DiscordError(413, 40005, "Request entity too large")


def make_attachment(
    attachment_id: int, upload: Upload, meta: dict[str, Any], *, channel_id: int, base_url: str
) -> dict[str, Any]:
    """An attachment object plus `data` (its bytes); `meta` is the request's `attachments[]` entry."""
    filename = meta.get("filename") or upload.filename
    url = f"{base_url}/attachments/{channel_id}/{attachment_id}/{quote(filename)}"
    attachment: dict[str, Any] = {
        "id": str(attachment_id),
        "filename": filename,
        "size": len(upload.data),
        "url": url,
        "proxy_url": url,
        "content_type": mimetypes.guess_type(filename)[0] or OCTET_STREAM,
    }
    try:
        # Discord takes any file: a huge image (a test's decompression bomb) is stored unmeasured.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data)) as image:
                attachment["content_type"] = Image.MIME.get(image.format or "", attachment["content_type"])
                attachment["width"], attachment["height"] = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        pass
    if meta.get("description"):
        attachment["description"] = meta["description"]
    attachment["data"] = upload.data
    return attachment


def public(attachment: dict[str, Any]) -> dict[str, Any]:
    """The attachment as the API returns it (without the emulator's `data`)."""
    return {key: value for key, value in attachment.items() if key != "data"}


def option_attachment(
    attachment_id: int, upload: OptionUpload, *, channel_id: int, base_url: str
) -> dict[str, Any]:
    """The attachment a member uploaded for an attachment option, as in `data.resolved.attachments`:
    Discord keeps it as an ephemeral attachment, outside any message."""
    attachment = make_attachment(
        attachment_id, Upload(0, upload.filename, upload.data), {}, channel_id=channel_id, base_url=base_url
    )
    if upload.content_type != OCTET_STREAM:
        attachment["content_type"] = upload.content_type
    attachment["ephemeral"] = True
    return attachment
