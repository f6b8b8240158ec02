"""The playground's web page: a Discord channel in the browser, backed by the emulator.

The page is a client of the emulated Discord, the way the Discord app is a client of Discord: it
shows the channel's messages as the emulator holds them (what the real bot posted over Discord's
REST API) and turns what the visitor types or clicks into interactions the emulator sends to the
bot over the gateway. Nothing here knows how the bot works.
"""

import copy
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator import BackgroundEmulator, DiscordEmulator
from emulator.interactions import Interaction
from playground.commands import CommandError, read_command

STATIC = Path(__file__).parent / "static"
_EPHEMERAL = 1 << 6


class Playground:
    """The web app for one visitor, who is the emulated server's owner."""

    def __init__(self, discord: BackgroundEmulator) -> None:
        self._discord = discord
        self._interactions: list[Interaction] = []

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC)
        app.router.add_get("/api/view", self._view)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/click", self._click)
        return app

    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _view(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        return web.json_response(await self._discord.acall(self._snapshot, int(channel or 0)))

    async def _command(self, request: web.Request) -> web.Response:
        body = await request.json()
        channel, text = int(body["channel"]), str(body["text"])
        try:
            interaction = await self._discord.acall(self._use, channel, text)
        except (CommandError, LookupError, PermissionError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self._interactions.append(interaction)
        return web.json_response({"ok": True})

    async def _click(self, request: web.Request) -> web.Response:
        body = await request.json()
        message, custom_id = int(body["message"]), str(body["custom_id"])
        try:
            interaction = await self._discord.acall(
                lambda emulator: emulator.click(message, custom_id, user_id=emulator.owner_id)
            )
        except (LookupError, PermissionError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self._interactions.append(interaction)
        return web.json_response({"ok": True})

    async def _use(self, emulator: DiscordEmulator, channel: int, text: str) -> Interaction:
        directory = emulator.directory()
        names = {
            "channels": {c["name"]: int(c["id"]) for c in directory["channels"]},
            "roles": {name: int(role) for role, name in directory["roles"].items()},
        }
        typed = read_command(text, emulator.commands(emulator.guild_id), names)
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
        return {**directory, "me": str(emulator.owner_id), "channel": str(channel), "messages": messages}


def _for_page(message: dict[str, Any]) -> dict[str, Any]:
    """A message as JSON for the page: attachments by URL (the emulator serves them), not bytes."""
    shown = copy.copy(message)
    shown["attachments"] = [{k: v for k, v in a.items() if k != "data"} for a in message["attachments"]]
    shown["ephemeral"] = bool(message.get("flags", 0) & _EPHEMERAL)
    return shown
