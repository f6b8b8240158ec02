"""`DiscordEmulator`: Discord's REST API (v10) and gateway on one loopback port, for the real discord.py.

Every REST request is logged, checked against Discord's OpenAPI spec, and may be failed on purpose."""

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator import rest_app, rest_interactions, rest_messages, rest_webhooks
from emulator.actions import choose, click_button, use_command
from emulator.attachments import DEFAULT_UPLOAD_LIMIT
from emulator.bodies import Body, read_body
from emulator.commands import CommandRegistry
from emulator.components import BUTTON, STRING_SELECT
from emulator.faults import Faults
from emulator.gateway import Gateway
from emulator.interactions import Interaction, InteractionBook
from emulator.messages import MessageStore
from emulator.modals import Value, cancel_modal, submit_modal
from emulator.responses import DiscordError, error_response, invalid_form
from emulator.routing import Call, Router
from emulator.snowflakes import Snowflakes
from emulator.spec import SPEC_PATH, ApiSpec, SpecViolation
from emulator.state import State
from emulator.world import GUILDS_INTENT, MEMBERS_INTENT, World

log = logging.getLogger(__name__)
API_PREFIX = "/api/v10"
MAX_REQUEST_SIZE = 100 * 1024 * 1024
"""aiohttp refuses bodies over 1 MiB by default; accept more so oversized uploads get Discord's 413."""


class DiscordEmulator:
    def __init__(
        self,
        *,
        token: str = "emulator-token",
        application_id: int | None = None,
        spec_path: Path | None = SPEC_PATH,
        interaction_timeout: float = 3.0,
    ) -> None:
        snowflakes = Snowflakes()
        world = World(snowflakes)
        app_id = application_id or world.bot_user_id
        self._state = State(
            token=token,
            application_id=app_id,
            interaction_timeout=interaction_timeout,
            snowflakes=snowflakes,
            world=world,
            messages=MessageStore(world, snowflakes),
            commands=CommandRegistry(snowflakes, app_id),
            interactions=InteractionBook(),
            gateway=Gateway(world, token=token, application_id=app_id),
        )
        self._spec = ApiSpec(spec_path) if spec_path is not None else None
        endpoints = [rest_app, rest_messages, rest_interactions, rest_webhooks]
        self._router = Router([endpoint for module in endpoints for endpoint in module.ENDPOINTS])
        self._faults = Faults()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.requests: list[dict[str, Any]] = []
        """Every REST request: method, path (after /api/v10), query, json, files, status."""
        self.violations: list[SpecViolation] = []
        """Requests Discord would refuse as an invalid form body (each was answered 400, code 50035)."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=MAX_REQUEST_SIZE)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._serve)
        app.router.add_get("/gateway", self._state.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{port}"
        self._state.messages.base_url = self.base_url
        self._state.gateway.url = f"ws://{host}:{port}/gateway"

    async def stop(self) -> None:
        if self._runner is not None:
            self._state.gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        """What discord.py's `Route.BASE` should be."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What discord.py's `DiscordWebSocket.DEFAULT_GATEWAY` should be."""
        return self._state.gateway.url

    @property
    def token(self) -> str:
        return self._state.token

    @property
    def application_id(self) -> int:
        return self._state.application_id

    @property
    def bot_user_id(self) -> int:
        return self._state.world.bot_user_id

    @property
    def owner_id(self) -> int:
        """The server owner, a member who passes every permission check."""
        return self._state.world.owner_id

    @property
    def guild_id(self) -> int:
        return self._state.world.guild_id

    @property
    def identify_count(self) -> int:
        return self._state.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self._state.gateway.resume_count

    @property
    def deleted(self) -> list[int]:
        """Ids of deleted messages, in the order they went."""
        return list(self._state.messages.deleted)

    def channel_id(self, name: str) -> int:
        return self._state.world.channel_id(name)

    def directory(self) -> dict[str, Any]:
        """Who and what is in the guild, for a client to show names: its text channels (in order),
        users and roles by id."""
        world = self._state.world
        channels = sorted(
            (c for c in world.channels.values() if c.recipient_id is None), key=lambda c: c.position
        )
        return {
            "channels": [{"id": str(c.id), "name": c.name, "nsfw": c.nsfw} for c in channels],
            "users": {str(u.id): {"name": u.username, "bot": u.bot} for u in world.users.values()},
            "roles": {str(r.id): r.name for r in world.roles.values()},
        }

    def add_channel(self, name: str, *, nsfw: bool = False) -> int:
        """A new text channel in the guild (`nsfw`: age-restricted), announced with CHANNEL_CREATE."""
        world = self._state.world
        channel_id = world.add_channel(name, nsfw=nsfw)
        self._state.gateway.publish("CHANNEL_CREATE", world.channel_payload(channel_id), intent=GUILDS_INTENT)
        return channel_id

    def dm_channel_id(self, user_id: int) -> int | None:
        """The bot's DM channel with the user, once the bot (or `open_dm`) opened it."""
        return self._state.world.dm_channel_id(user_id)

    def open_dm(self, user_id: int) -> int:
        """The user opens their DM with the bot (to use a command there); returns the channel's id."""
        if user_id not in self._state.world.users:
            raise KeyError(f"there is no user {user_id}")
        return self._state.world.open_dm(user_id).id

    def add_member(
        self,
        username: str,
        *,
        roles: Sequence[int] = (),
        permissions: int | None = None,
        accepts_dms: bool = True,
    ) -> int:
        """A new guild member; `permissions` overrides what their roles would give; with `accepts_dms`
        False the bot's DMs to them fail with 50007, as with Discord's privacy setting."""
        world = self._state.world
        user_id = world.add_member(username, roles=roles, permissions=permissions, accepts_dms=accepts_dms)
        member = {**world.member_payload(user_id), "guild_id": str(world.guild_id)}
        self._state.gateway.publish("GUILD_MEMBER_ADD", member, intent=MEMBERS_INTENT)
        return user_id

    def add_role(self, name: str, permissions: int) -> int:
        world = self._state.world
        role_id = world.add_role(name, permissions)
        role = {"guild_id": str(world.guild_id), "role": world.role_payload(role_id)}
        self._state.gateway.publish("GUILD_ROLE_CREATE", role, intent=GUILDS_INTENT)
        return role_id

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The commands the bot registered globally (None) or in a guild."""
        return self._state.commands.list(guild_id)

    async def slash(
        self,
        name: str,
        options: Mapping[str, object] | None = None,
        *,
        user_id: int,
        channel_id: int | None = None,
        attachment_size_limit: int = DEFAULT_UPLOAD_LIMIT,
        forged: bool = False,
    ) -> Interaction:
        """The member uses /name (in #general unless told otherwise; a DM's id works too). `name` is the
        command as Discord's client shows it: "admin limits set" for a subcommand in a group; an option's
        value is a str, int, float, bool, an id (user, channel, role) or an `Upload` (attachment).

        PermissionError when Discord's client would not offer the command to this member here (its
        `default_member_permissions`, `contexts`, `nsfw`); `forged=True` delivers it anyway, as a
        hand-made interaction would, so the bot's own checks are what a test exercises."""
        return use_command(
            self._state,
            name,
            options or {},
            user_id=user_id,
            channel_id=channel_id or self.channel_id("general"),
            attachment_size_limit=attachment_size_limit,
            forged=forged,
        )

    async def click(
        self,
        message_id: int,
        custom_id: str,
        *,
        user_id: int,
        attachment_size_limit: int = DEFAULT_UPLOAD_LIMIT,
        forged: bool = False,
        unlisted: bool = False,
    ) -> Interaction:
        """The member clicks the message's button with that custom_id. PermissionError when they cannot
        see the message (another user's DM with the bot, an ephemeral message shown to someone else);
        `forged=True` delivers the click anyway. `unlisted=True` delivers a custom_id the message does
        not show (a hand-made interaction: `evil:1`, a job that never existed)."""
        return click_button(
            self._state,
            message_id,
            custom_id,
            user_id=user_id,
            attachment_size_limit=attachment_size_limit,
            forged=forged,
            unlisted=unlisted,
        )

    async def choose(
        self,
        message_id: int,
        custom_id: str,
        values: Sequence[str],
        *,
        user_id: int,
        attachment_size_limit: int = DEFAULT_UPLOAD_LIMIT,
        forged: bool = False,
    ) -> Interaction:
        """The member picks `values` (option values) in the message's string select with that
        custom_id. LookupError when there is no such select, PermissionError as for `click`,
        ValueError when it is disabled or the values are not among its options or outside its
        min_values..max_values."""
        return choose(
            self._state,
            message_id,
            custom_id,
            values,
            user_id=user_id,
            attachment_size_limit=attachment_size_limit,
            forged=forged,
        )

    async def submit_modal(
        self,
        opener: Interaction,
        values: Mapping[str, Value] | None = None,
        *,
        user_id: int | None = None,
        attachment_size_limit: int = DEFAULT_UPLOAD_LIMIT,
    ) -> Interaction:
        """The member submits the modal the bot opened in answer to `opener` (a command or click):
        `values` by input custom_id (text, or option values for a select in a label); inputs left out
        keep what the modal prefilled. `user_id` defaults to whoever opened it. Returns the
        MODAL_SUBMIT interaction, which carries the clicked message when a component opened the modal.

        LookupError when `opener` opened no modal or a value names no input; PermissionError when it
        is another member's modal; ValueError when it was already submitted or cancelled, or a value
        breaks its input's rules (required, min_length/max_length)."""
        return submit_modal(
            self._state,
            opener,
            values or {},
            user_id=opener.user_id if user_id is None else user_id,
            attachment_size_limit=attachment_size_limit,
        )

    def cancel_modal(self, opener: Interaction, *, user_id: int | None = None) -> None:
        """The member closes the modal `opener` opened without submitting it (the bot hears nothing)."""
        cancel_modal(opener, user_id=opener.user_id if user_id is None else user_id)

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """What members see in the channel (or DM), oldest first; attachments carry `data` (their bytes)."""
        return [message.view() for message in self._state.messages.in_channel(channel_id)]

    def summaries(self, channel_id: int) -> list[dict[str, Any]]:
        """The channel's messages, cheaply: id, author id, content, attachment count, buttons
        (label, emoji name, custom_id, url) and string selects (custom_id, placeholder, option
        values, min/max_values), without copying attachments' bytes; for watchers that read a busy
        channel often."""
        return [_summary(message.payload) for message in self._state.messages.in_channel(channel_id)]

    def message(self, message_id: int) -> dict[str, Any]:
        """A message as it is now (ephemeral ones too); KeyError when there is none."""
        try:
            return self._state.messages.get(message_id, ephemeral=True).view()
        except DiscordError:
            deleted = message_id in self._state.messages.deleted
            raise KeyError(f"there is no message {message_id} (deleted: {deleted})") from None

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        count: int = 1,
        retry_after: float = 0.3,
        code: int | None = None,
        is_global: bool = False,
    ) -> None:
        """The next `count` requests whose path (after /api/v10) fully matches the regex get `status`."""
        self._faults.add(
            method, path_pattern, status, count=count, retry_after=retry_after, code=code, is_global=is_global
        )

    def expire_token(self, token: str) -> None:
        """The interaction token stops working, as it does after 15 minutes."""
        self._state.interactions.expire(token)

    async def reconnect(self) -> None:
        """Sends RECONNECT (op 7) to every connection."""
        self._state.gateway.reconnect()

    async def invalidate_session(self, resumable: bool) -> None:
        """Sends INVALID_SESSION (op 9); a session that is not resumable is forgotten."""
        self._state.gateway.invalidate_sessions(resumable)

    async def drop_connections(self) -> None:
        """Cuts every gateway connection without a close frame."""
        self._state.gateway.drop_connections()

    async def _serve(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        entry: dict[str, Any] = {
            "method": request.method,
            "path": path,
            "query": dict(request.query),
            "at": time.time(),
        }
        entry.update(json=None, files=[], status=None)
        self.requests.append(entry)
        try:
            body = await read_body(request)
            entry.update(json=body.json, files=[upload.filename for upload in body.uploads])
            response = await self._answer(request, path, body)
        except DiscordError as error:
            if error.code == 50035:
                self.violations.append(SpecViolation(request.method, path, error.detail, error.errors))
            response = error_response(error)
        except Exception as error:
            # A 500 would have discord.py retry for half a minute: fail the request at once instead.
            log.exception("the emulator failed on %s %s", request.method, path)
            response = error_response(DiscordError(400, 0, f"emulator bug: {error!r}"))
        entry["status"] = response.status
        return response

    async def _answer(self, request: web.Request, path: str, body: Body) -> web.Response:
        fault = self._faults.take(request.method, path)
        if fault is not None:
            raise fault
        endpoint, params = self._router.resolve(request.method, path)
        if endpoint.bot_token and request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")
        if self._spec is not None:
            violation = self._spec.check(request.method, path, request.query, body)
            if violation is not None:
                raise invalid_form(violation.errors, violation.message)
        call = Call(params, request.query, body)
        return await endpoint.handler(self._state, call)

    async def _download(self, request: web.Request) -> web.Response:
        """The CDN: an attachment's bytes at its `url`."""
        attachment_id = request.match_info["attachment_id"]
        attachment = (
            self._state.messages.attachments.get(int(attachment_id)) if attachment_id.isdigit() else None
        )
        if attachment is None or attachment["filename"] != request.match_info["filename"]:
            return web.Response(status=404, text="404: Not Found")
        return web.Response(body=attachment["data"], content_type=attachment["content_type"])


def _summary(payload: dict[str, Any]) -> dict[str, Any]:
    inner = [item for row in payload["components"] for item in row.get("components") or []]
    buttons = [
        {key: button.get(key) for key in ("label", "custom_id", "url", "disabled")}
        | {"emoji": (button.get("emoji") or {}).get("name")}
        for button in inner
        if button.get("type") == BUTTON
    ]
    selects = [
        {key: select.get(key) for key in ("custom_id", "placeholder", "min_values", "max_values", "disabled")}
        | {"options": [option["value"] for option in select["options"]]}
        for select in inner
        if select.get("type") == STRING_SELECT
    ]
    return {
        "id": int(payload["id"]),
        "author_id": int(payload["author"]["id"]),
        "content": payload["content"],
        "attachments": len(payload["attachments"]),
        "buttons": buttons,
        "selects": selects,
        "nonce": payload.get("nonce"),
    }
