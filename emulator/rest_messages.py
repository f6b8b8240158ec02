"""Channel messages with the bot's token: send (honouring `enforce_nonce`), read, edit and delete."""

from aiohttp import web

from emulator.attachments import DEFAULT_UPLOAD_LIMIT, check_sizes
from emulator.messages import StoredMessage
from emulator.responses import DiscordError, json_response, no_content
from emulator.routing import Call, Endpoint
from emulator.state import State


async def create_message(state: State, call: Call) -> web.Response:
    channel_id = call.snowflake("channel_id")
    recipient = state.world.channel(channel_id).recipient_id
    if recipient is not None and not state.world.users[recipient].accepts_dms:
        raise DiscordError(403, 50007, "Cannot send messages to this user")
    request = call.body.payload()
    check_sizes(call.body.uploads, DEFAULT_UPLOAD_LIMIT)
    if request.get("enforce_nonce") and request.get("nonce") is not None:
        earlier = state.messages.find_nonce(state.world.bot_user_id, request["nonce"])
        if earlier is not None:
            return json_response(earlier.api())
    message = state.messages.create(channel_id, request, call.body.uploads, author_id=state.world.bot_user_id)
    state.announce("MESSAGE_CREATE", message)
    return json_response(message.api())


async def get_messages(state: State, call: Call) -> web.Response:
    """Newest first, as Discord lists them."""
    channel_id = call.snowflake("channel_id")
    state.world.channel(channel_id)
    messages = [message.api() for message in reversed(state.messages.in_channel(channel_id))]
    if "before" in call.query:
        messages = [m for m in messages if int(m["id"]) < int(call.query["before"])]
    if "after" in call.query:
        messages = [m for m in messages if int(m["id"]) > int(call.query["after"])]
    return json_response(messages[: int(call.query.get("limit", 50))])


async def get_message(state: State, call: Call) -> web.Response:
    return json_response(_message(state, call).api())


async def edit_message(state: State, call: Call) -> web.Response:
    message = _message(state, call)
    if message.author_id != state.world.bot_user_id:
        raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
    check_sizes(call.body.uploads, DEFAULT_UPLOAD_LIMIT)
    state.messages.edit(message.id, call.body.payload(), call.body.uploads)
    state.announce("MESSAGE_UPDATE", message)
    return json_response(message.api())


async def delete_message(state: State, call: Call) -> web.Response:
    state.announce_delete(state.messages.delete(_message(state, call).id))
    return no_content()


def _message(state: State, call: Call) -> StoredMessage:
    channel_id = call.snowflake("channel_id")
    state.world.channel(channel_id)
    return state.messages.get(call.snowflake("message_id"), channel_id=channel_id)


ENDPOINTS = [
    Endpoint("POST", "/channels/{channel_id}/messages", create_message),
    Endpoint("GET", "/channels/{channel_id}/messages", get_messages),
    Endpoint("GET", "/channels/{channel_id}/messages/{message_id}", get_message),
    Endpoint("PATCH", "/channels/{channel_id}/messages/{message_id}", edit_message),
    Endpoint("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message),
]
