"""Discord-shaped HTTP answers: JSON with exactly `application/json`, and errors with Discord's codes."""

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web

# Discord's edge (Google's load balancer) adds this header; discord.py only retries a 429 that has it.
VIA = "1.1 google"


class DiscordError(Exception):
    """An error Discord answers with: HTTP status, JSON error code, message and optional field errors."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        self.detail = detail or describe_errors(self.errors) or message
        """What went wrong, in words, for logs and test failures."""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code, **self.extra}
        if self.errors:
            body["errors"] = self.errors
        return body


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """discord.py parses a body only when Content-Type is exactly `application/json` (no charset)."""
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers={"Via": VIA, **(headers or {})},
    )


def no_content() -> web.Response:
    return web.Response(status=204, headers={"Via": VIA})


def error_response(error: DiscordError) -> web.Response:
    return json_response(error.body(), error.status, error.headers)


def http_error(status: int, code: int = 0) -> DiscordError:
    """Discord's generic error for a status, such as `{"message": "404: Not Found", "code": 0}`."""
    return DiscordError(status, code, f"{status}: {HTTPStatus(status).phrase}")


def unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


def invalid_form(errors: Mapping[str, Any], detail: str | None = None) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors, detail=detail)


def field_error(path: tuple[str | int, ...], code: str, message: str) -> dict[str, Any]:
    """Discord's nested error tree: `{"content": {"_errors": [{"code": ..., "message": ...}]}}`."""
    tree: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        tree = {str(key): tree}
    return tree


def describe_errors(tree: Mapping[str, Any], path: tuple[str, ...] = ()) -> str:
    """The first error in a tree as `field.path: message`, or "" when there is none."""
    for key, value in tree.items():
        if key == "_errors" and value:
            return f"{'.'.join(path) or 'body'}: {value[0]['message']}"
        if isinstance(value, Mapping) and (found := describe_errors(value, (*path, key))):
            return found
    return ""
