"""The playground's web page: a Discord channel in the browser, backed by the emulator.

The page is a client of the emulated Discord, the way the Discord app is a client of Discord: it
shows the channel's messages as the emulator holds them (what the real bot posted over Discord's
REST API) and turns what the visitor types or clicks into interactions the emulator sends to the
bot over the gateway. Nothing here knows how the bot works.
"""

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator import BackgroundEmulator, DiscordEmulator, Upload
from emulator.interactions import Interaction
from playground.commands import CommandError, read_command

STATIC = Path(__file__).parent / "static"
_EPHEMERAL = 1 << 6
_BODY_LIMIT = 32 * 1024 * 1024
"""The largest request the page may send: a command with its files (each under Discord's limit)."""


class Playground:
    """The web app for one visitor, who is the emulated server's owner."""

    def __init__(self, discord: BackgroundEmulator) -> None:
        self._discord = discord
        self._interactions: list[Interaction] = []

    def app(self) -> web.Application:
        app = web.Application(client_max_size=_BODY_LIMIT)
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC)
        app.router.add_get("/api/view", self._view)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/choose", self._choose)
        app.router.add_post("/api/submit", self._submit)
        app.router.add_post("/api/cancel", self._cancel)
        return app

    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _view(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        return web.json_response(await self._discord.acall(self._snapshot, int(channel or 0)))

    async def _command(self, request: web.Request) -> web.Response:
        """A command typed in the message box: JSON, or a form with the files attached to it."""
        files: list[Upload] = []
        if request.content_type == "multipart/form-data":
            form = await request.post()
            body: Any = form
            files = [Upload(field.filename, field.file.read()) for field in form.getall("file", [])]
        else:
            body = await request.json()
        channel, text = int(body["channel"]), str(body["text"])
        try:
            interaction = await self._discord.acall(self._use, channel, text, files)
        except (CommandError, LookupError, PermissionError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self._interactions.append(interaction)
        return web.json_response({"ok": True})

    async def _click(self, request: web.Request) -> web.Response:
        body = await request.json()
        message, custom_id = int(body["message"]), str(body["custom_id"])
        return await self._act(lambda emulator: emulator.click(message, custom_id, user_id=emulator.owner_id))

    async def _choose(self, request: web.Request) -> web.Response:
        body = await request.json()
        message, custom_id = int(body["message"]), str(body["custom_id"])
        values = [str(value) for value in body["values"]]
        return await self._act(
            lambda emulator: emulator.choose(message, custom_id, values, user_id=emulator.owner_id)
        )

    async def _submit(self, request: web.Request) -> web.Response:
        body = await request.json()
        values = {str(key): _entered(value) for key, value in dict(body["values"]).items()}
        return await self._act(
            lambda emulator: emulator.submit_modal(self._opener(body), values, user_id=emulator.owner_id)
        )

    async def _cancel(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            await self._discord.acall(
                lambda emulator: emulator.cancel_modal(self._opener(body), user_id=emulator.owner_id)
            )
        except (LookupError, PermissionError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"ok": True})

    async def _act(self, act: Callable[[DiscordEmulator], Awaitable[Interaction]]) -> web.Response:
        """Sends the visitor's interaction; what Discord's client would not let them do is explained."""
        try:
            interaction = await self._discord.acall(act)
        except (LookupError, PermissionError, TypeError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self._interactions.append(interaction)
        return web.json_response({"ok": True})

    def _opener(self, body: dict[str, Any]) -> Interaction:
        """The visitor's interaction whose answer opened the modal the page shows."""
        wanted = int(body["interaction"])
        found = next((i for i in self._interactions if i.id == wanted), None)
        if found is None:
            raise LookupError(f"the visitor made no interaction {wanted}")
        return found

    async def _use(
        self, emulator: DiscordEmulator, channel: int, text: str, files: list[Upload]
    ) -> Interaction:
        directory = emulator.directory()
        names = {
            "channels": {c["name"]: int(c["id"]) for c in directory["channels"]},
            "roles": {name: int(role) for role, name in directory["roles"].items()},
        }
        typed = read_command(text, emulator.commands(emulator.guild_id), names, files)
        return await emulator.slash(typed.name, typed.options, user_id=emulator.owner_id, channel_id=channel)

    def _snapshot(self, emulator: DiscordEmulator, channel: int) -> dict[str, Any]:
        """The channel as the visitor sees it: everyone's messages and the ones only they see."""
        directory = emulator.directory()
        channel = channel or int(directory["channels"][0]["id"])
        shown = {int(m["id"]): m for m in emulator.messages(channel)}
        for interaction in self._interactions:
            if interaction.channel_id == channel:
                shown.update((int(m["id"]), m) for m in interaction.ephemeral)
        messages = [_for_page(shown[key]) for key in sorted(shown)]
        return {
            **directory,
            "me": str(emulator.owner_id),
            "channel": str(channel),
            "messages": messages,
            "modal": self._pending_modal(),
        }

    def _pending_modal(self) -> dict[str, Any] | None:
        """The modal Discord's client shows: the one the bot opened in answer to the visitor's latest
        interaction, until they submit or cancel it; with that interaction's id to post back."""
        latest = self._interactions[-1] if self._interactions else None
        if latest is None or latest.modal is None or latest.modal_closed:
            return None
        return {**copy.deepcopy(latest.modal), "interaction": str(latest.id)}


def _entered(value: object) -> str | list[str]:
    """What the page posts for one input: text, or a select's option values."""
    return [str(item) for item in value] if isinstance(value, list) else str(value)


def _for_page(message: dict[str, Any]) -> dict[str, Any]:
    """A message as JSON for the page: attachments by URL (the emulator serves them), not bytes."""
    shown = copy.copy(message)
    shown["attachments"] = [{k: v for k, v in a.items() if k != "data"} for a in message["attachments"]]
    shown["ephemeral"] = bool(message.get("flags", 0) & _EPHEMERAL)
    return shown
