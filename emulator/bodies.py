"""Reading a request body the ways Discord accepts one: JSON, or a form whose `payload_json` part holds
the JSON and whose `files[n]` parts hold uploads."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.responses import DiscordError

JSON = "application/json"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_FILE_FIELD = re.compile(r"files\[(\d+)\]")


@dataclass(frozen=True)
class Upload:
    """A file part; `index` is the n of `files[n]`, which `attachments[].id` refers to."""

    index: int
    filename: str
    data: bytes


@dataclass(frozen=True)
class Body:
    content_type: str | None = None
    """The media type without parameters; None when the request had no body."""
    json: Any = None
    """The JSON document, or the `payload_json` part of a form merged over its other text fields."""
    uploads: list[Upload] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.content_type is None

    def payload(self) -> dict[str, Any]:
        """The JSON object, or {} when there is none (or it is not an object)."""
        return self.json if isinstance(self.json, dict) else {}


async def read_body(request: web.Request) -> Body:
    try:
        return await _read(request)
    except web.HTTPRequestEntityTooLarge:
        raise DiscordError(413, 40005, "Request entity too large") from None


async def _read(request: web.Request) -> Body:
    if not request.body_exists:
        return Body()
    content_type = request.content_type
    if content_type == JSON:
        text = await request.text()
        return Body(content_type, _parse_json(text))
    if content_type in FORM_TYPES:
        return await _read_form(request, content_type)
    await request.read()
    return Body(content_type)


async def _read_form(request: web.Request, content_type: str) -> Body:
    document: dict[str, Any] = {}
    payload_json: Any = None
    uploads: list[Upload] = []
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            found = _FILE_FIELD.fullmatch(name)
            index = int(found[1]) if found else len(uploads)
            uploads.append(Upload(index, value.filename, value.file.read()))
        elif name == "payload_json":
            payload_json = _parse_json(value)
        else:
            document[name] = value
    if isinstance(payload_json, dict):
        document.update(payload_json)
    elif payload_json is not None:
        document = payload_json
    return Body(content_type, document, uploads)


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None
