"""The emulated REST routes: which handler serves a method and path, and what it is called with."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from emulator.bodies import Body
from emulator.paths import TemplateIndex
from emulator.responses import DiscordError, field_error, http_error, invalid_form
from emulator.state import State


@dataclass(frozen=True)
class Call:
    """One REST request, as a handler sees it."""

    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Body

    def snowflake(self, name: str) -> int:
        value = self.params[name]
        if not value.isdigit():
            raise invalid_form(
                field_error((name,), "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
            )
        return int(value)

    def flag(self, name: str) -> bool:
        """A boolean query parameter (`?wait=true`, `?with_response=1`)."""
        return self.query.get(name, "").lower() in ("1", "true")


Handler = Callable[[State, Call], Awaitable[web.Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str
    handler: Handler
    bot_token: bool = True
    """Whether it needs `Authorization: Bot <token>` (interaction and webhook endpoints do not)."""


class Router:
    def __init__(self, endpoints: list[Endpoint]) -> None:
        self._endpoints = {(endpoint.method, endpoint.template): endpoint for endpoint in endpoints}
        self._templates = TemplateIndex(endpoint.template for endpoint in endpoints)

    def resolve(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        found = self._templates.match(path)
        if found is None:
            raise DiscordError(404, 0, f"404: Not Found (the emulator has no route {path})")
        template, params = found
        endpoint = self._endpoints.get((method, template))
        if endpoint is None:
            raise http_error(405)
        return endpoint, params
