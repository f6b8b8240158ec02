"""`POST /interactions/{id}/{token}/callback`: the bot's answer to an interaction, within the window."""

import time
from typing import Any

from aiohttp import web

from emulator.attachments import check_sizes
from emulator.components import check_modal
from emulator.interactions import TYPES, Interaction, response_fields
from emulator.messages import EPHEMERAL, LOADING, StoredMessage
from emulator.responses import DiscordError, field_error, invalid_form, json_response, no_content
from emulator.routing import Call, Endpoint
from emulator.state import State

CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL = 4, 5, 6, 7, 9
DEFAULT_MESSAGE, CHAT_INPUT_COMMAND_MESSAGE, REPLY_MESSAGE = 0, 20, 19


async def create_response(state: State, call: Call) -> web.Response:
    interaction = state.interactions.for_callback(
        call.snowflake("interaction_id"), call.params["interaction_token"]
    )
    if interaction.acknowledged_at is not None:
        raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
    if time.time() - interaction.created_at > state.interaction_timeout:
        raise DiscordError(404, 10062, "Unknown interaction")
    request = call.body.payload()
    kind, data = request.get("type"), request.get("data") or {}
    check_sizes(call.body.uploads, interaction.attachment_size_limit)
    message: StoredMessage | None = None
    if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
        message = _respond(state, interaction, kind, data, call)
    elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and interaction.clicked_message_id is not None:
        message = state.messages.get(interaction.clicked_message_id, ephemeral=True)
        if kind == UPDATE_MESSAGE:
            state.messages.edit(message.id, data, call.body.uploads)
            state.announce("MESSAGE_UPDATE", message)
        interaction.original_message_id = message.id
        interaction.message_ids.append(message.id)
    elif kind == MODAL and interaction.kind != "modal":  # Discord's rule: no modal answers a modal
        check_modal(data)
        interaction.modal = data
    else:
        detail = f"callback type {kind} is not a valid answer to a {interaction.kind} interaction"
        raise invalid_form(field_error(("type",), "INTERACTION_CALLBACK_TYPE_INVALID", detail))
    interaction.response_data = data
    interaction.acknowledge(kind)
    if not call.flag("with_response"):
        return no_content()
    return json_response(_callback_answer(interaction, kind, message))


def _respond(
    state: State, interaction: Interaction, kind: int, data: dict[str, Any], call: Call
) -> StoredMessage:
    """The original response: a new message, or a "thinking" one (LOADING) for a deferral."""
    flags = ((data.get("flags") or 0) & EPHEMERAL) | (LOADING if kind == DEFERRED_CHANNEL_MESSAGE else 0)
    if interaction.kind == "command":
        message_type = CHAT_INPUT_COMMAND_MESSAGE
    else:  # a component's answer replies to its message; so does a modal's opened from one
        message_type = DEFAULT_MESSAGE if interaction.clicked_message_id is None else REPLY_MESSAGE
    message = state.messages.create(
        interaction.channel_id,
        data,
        call.body.uploads,
        author_id=state.world.bot_user_id,
        type=message_type,
        flags=flags,
        extra=response_fields(
            state.world,
            interaction,
            application_id=state.application_id,
            reply_to=interaction.clicked_message_id,
        ),
    )
    interaction.original_message_id = message.id
    interaction.message_ids.append(message.id)
    if message.ephemeral:
        interaction.ephemeral.append(message.payload)
    state.announce("MESSAGE_CREATE", message)
    return message


def _callback_answer(interaction: Interaction, kind: int, message: StoredMessage | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": kind}
    if message is not None and kind != DEFERRED_UPDATE_MESSAGE:
        resource["message"] = message.api()
    return {
        "interaction": {
            "id": str(interaction.id),
            "type": TYPES[interaction.kind],
            "activity_instance_id": None,
            "response_message_id": str(message.id) if message else None,
            "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(message and message.ephemeral),
        },
        "resource": resource,
    }


ENDPOINTS = [
    Endpoint(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        create_response,
        bot_token=False,
    ),
]
