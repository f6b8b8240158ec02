"""Interactions a member starts (slash commands, button clicks and selects, modal submits): the record
a test reads, the book that finds one by id or token, and the INTERACTION_CREATE payload discord.py
parses."""

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.attachments import DEFAULT_UPLOAD_LIMIT
from emulator.commands import CHANNEL, MENTIONABLE, ROLE, SUB_COMMAND, SUB_COMMAND_GROUP, USER
from emulator.permissions import DM_PERMISSIONS
from emulator.responses import DiscordError
from emulator.world import World

APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
GUILD_CONTEXT, BOT_DM_CONTEXT = 0, 1
TOKEN_LIFETIME = 15 * 60.0
Kind = Literal["command", "component", "modal"]
TYPES: dict[str, int] = {
    "command": APPLICATION_COMMAND,
    "component": MESSAGE_COMPONENT,
    "modal": MODAL_SUBMIT,
}
"""The interaction type (INTERACTION_CREATE's `type`) of each kind."""


@dataclass(eq=False)
class Interaction:
    """What a member's interaction led to, updated as the bot answers."""

    id: int
    token: str
    kind: Kind
    user_id: int
    channel_id: int
    created_at: float
    acknowledged_at: float | None = None
    response_type: int | None = None
    ephemeral: list[dict[str, Any]] = field(default_factory=list)
    """Messages only the member sees: an ephemeral response and ephemeral follow-ups (live objects)."""
    original_message_id: int | None = None
    modal: dict[str, Any] | None = None
    """The modal the bot opened (callback type 9), if any."""
    modal_closed: bool = False
    """The member submitted or cancelled that modal: it is no longer shown."""
    opened_from: "Interaction | None" = None
    """For a modal submit: the interaction whose answer opened the modal."""
    response_data: dict[str, Any] | None = None
    """The callback's `data` as the bot sent it (the original response's content as it was first
    written, even once the message is edited or deleted)."""
    message_ids: list[int] = field(default_factory=list)
    """Messages this interaction's token may read, edit and delete: the original and follow-ups."""
    clicked_message_id: int | None = None
    attachment_size_limit: int = DEFAULT_UPLOAD_LIMIT
    expired: bool = False
    _acknowledged: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def wait_acknowledged(self, timeout: float = 3.0) -> None:
        """Waits until the bot answers the callback; raises TimeoutError if it does not in time."""
        await asyncio.wait_for(self._acknowledged.wait(), timeout)

    def acknowledge(self, response_type: int) -> None:
        self.acknowledged_at = time.time()
        self.response_type = response_type
        self._acknowledged.set()

    @property
    def token_expired(self) -> bool:
        return self.expired or time.time() - self.created_at > TOKEN_LIFETIME


class InteractionBook:
    def __init__(self) -> None:
        self._by_id: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}

    def add(self, interaction: Interaction) -> None:
        self._by_id[interaction.id] = interaction
        self._by_token[interaction.token] = interaction

    def for_callback(self, interaction_id: int, token: str) -> Interaction:
        interaction = self._by_id.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.token_expired:
            raise invalid_token()
        return interaction

    def for_webhook(self, token: str) -> Interaction:
        interaction = self._by_token.get(token)
        if interaction is None or interaction.token_expired:
            raise invalid_token()
        return interaction

    def expire(self, token: str) -> None:
        interaction = self._by_token.get(token)
        if interaction is None:
            raise KeyError(f"no interaction has the token {token!r}")
        interaction.expired = True


def invalid_token() -> DiscordError:
    return DiscordError(401, 50027, "Invalid Webhook Token")


def new_token(interaction_id: int) -> str:
    """Shaped like Discord's (`aW50ZXJhY3Rpb246…`, base64 of "interaction:"), URL-safe."""
    return f"aW50ZXJhY3Rpb246{interaction_id}-{secrets.token_urlsafe(48)}"


def interaction_payload(
    world: World,
    interaction: Interaction,
    *,
    application_id: int,
    type: int,
    data: dict[str, Any],
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """INTERACTION_CREATE's payload: from a member in the world's guild, or from a user in their DM with
    the bot (no guild, a `user` instead of a `member`, context BOT_DM)."""
    in_dm = world.channel(interaction.channel_id).recipient_id is not None
    payload: dict[str, Any] = {
        "id": str(interaction.id),
        "application_id": str(application_id),
        "type": type,
        "data": data,
        "channel": world.channel_payload(interaction.channel_id),
        "channel_id": str(interaction.channel_id),
        "token": interaction.token,
        "version": 1,
        "app_permissions": str(DM_PERMISSIONS if in_dm else world.permissions(world.bot_user_id)),
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": integration_owners(world, interaction),
        "context": BOT_DM_CONTEXT if in_dm else GUILD_CONTEXT,
        "attachment_size_limit": interaction.attachment_size_limit,
    }
    if in_dm:
        payload["user"] = world.user_payload(interaction.user_id)
    else:
        payload.update(
            guild={"id": str(world.guild_id), "locale": "en-US", "features": []},
            guild_id=str(world.guild_id),
            member=world.member_payload(interaction.user_id, with_permissions=True),
            guild_locale="en-US",
        )
    if message is not None:
        payload["message"] = message
    return payload


def integration_owners(world: World, interaction: Interaction) -> dict[str, str]:
    """The app is installed to the guild (GUILD_INSTALL, "0"): Discord gives the guild's id, or "0" in
    the bot's DM."""
    in_dm = world.channel(interaction.channel_id).recipient_id is not None
    return {"0": "0" if in_dm else str(world.guild_id)}


def resolved(world: World, options: list[dict[str, Any]], user_id: int) -> dict[str, Any]:
    """The `resolved` map for user, channel and role options (inside subcommands too), as `user_id` sees
    them; attachments are added by the caller, which stored them."""
    found: dict[str, dict[str, Any]] = {}
    for option in _leaves(options):
        kind, key = option["type"], option["value"]
        if kind not in (USER, CHANNEL, ROLE, MENTIONABLE):
            continue
        if kind in (USER, MENTIONABLE) and int(key) in world.members:
            member = world.member_payload(int(key), with_permissions=True)
            found.setdefault("users", {})[key] = member.pop("user")
            found.setdefault("members", {})[key] = member
        elif kind in (ROLE, MENTIONABLE) and int(key) in world.roles:
            found.setdefault("roles", {})[key] = world.role_payload(int(key))
        elif kind == CHANNEL and int(key) in world.channels:
            channel = world.channel_payload(int(key))
            found.setdefault("channels", {})[key] = {
                **channel,
                "permissions": str(world.permissions(user_id)),
            }
        else:
            raise ValueError(f"option {option['name']!r}: nothing in the guild has the id {key}")
    return found


def _leaves(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        leaf
        for option in options
        for leaf in (
            _leaves(option["options"]) if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) else [option]
        )
    ]


def response_fields(
    world: World, interaction: Interaction, *, application_id: int, reply_to: int | None
) -> dict[str, Any]:
    """Fields of a message the bot sends through an interaction: it is the application's webhook
    message, carries `interaction_metadata`, and replies to `reply_to` (the clicked message for a
    component response, the original response for a follow-up)."""
    fields: dict[str, Any] = {
        "webhook_id": str(application_id),
        "application_id": str(application_id),
        "interaction_metadata": _metadata(world, interaction),
    }
    if reply_to is not None:
        reference = {"type": 0, "message_id": str(reply_to), "channel_id": str(interaction.channel_id)}
        if interaction.channel_id in world.channels:
            reference["guild_id"] = str(world.guild_id)
        fields["message_reference"] = reference
    return fields


def _metadata(world: World, interaction: Interaction) -> dict[str, Any]:
    """`interaction_metadata`; a modal submit's names the interaction that opened the modal."""
    metadata: dict[str, Any] = {
        "id": str(interaction.id),
        "type": TYPES[interaction.kind],
        "user": world.user_payload(interaction.user_id),
        "authorizing_integration_owners": integration_owners(world, interaction),
    }
    if interaction.clicked_message_id is not None and interaction.kind == "component":
        metadata["interacted_message_id"] = str(interaction.clicked_message_id)
    if interaction.original_message_id is not None:
        metadata["original_response_message_id"] = str(interaction.original_message_id)
    if interaction.opened_from is not None:
        metadata["triggering_interaction_metadata"] = _metadata(world, interaction.opened_from)
    return metadata
