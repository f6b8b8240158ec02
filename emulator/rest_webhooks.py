"""The interaction's webhook: follow-ups, and reading, editing and deleting the original response
and follow-ups, for 15 minutes after the interaction (no bot token needed)."""

from aiohttp import web

from emulator.attachments import check_sizes
from emulator.interactions import Interaction, response_fields
from emulator.messages import EPHEMERAL, StoredMessage
from emulator.responses import DiscordError, json_response, no_content, unknown_message
from emulator.rest_interactions import REPLY_MESSAGE
from emulator.routing import Call, Endpoint
from emulator.state import State


def _interaction(state: State, call: Call) -> Interaction:
    interaction = state.interactions.for_webhook(call.params["webhook_token"])
    if call.snowflake("webhook_id") != state.application_id:
        raise DiscordError(404, 10015, "Unknown Webhook")
    return interaction


async def execute(state: State, call: Call) -> web.Response:
    """A follow-up message; it replies to the original response when there is one."""
    interaction = _interaction(state, call)
    if interaction.acknowledged_at is None:
        raise DiscordError(404, 10015, "Unknown Webhook")
    request = call.body.payload()
    check_sizes(call.body.uploads, interaction.attachment_size_limit)
    message = state.messages.create(
        interaction.channel_id,
        request,
        call.body.uploads,
        author_id=state.world.bot_user_id,
        type=REPLY_MESSAGE if interaction.original_message_id else 0,
        flags=(request.get("flags") or 0) & EPHEMERAL,
        extra=response_fields(
            state.world,
            interaction,
            application_id=state.application_id,
            reply_to=interaction.original_message_id,
        ),
    )
    interaction.message_ids.append(message.id)
    if message.ephemeral:
        interaction.ephemeral.append(message.payload)
    state.announce("MESSAGE_CREATE", message)
    return json_response(message.api()) if call.flag("wait") else no_content()


async def get_message(state: State, call: Call) -> web.Response:
    return json_response(_message(state, call, _interaction(state, call)).api())


async def edit_message(state: State, call: Call) -> web.Response:
    interaction = _interaction(state, call)
    message = _message(state, call, interaction)
    check_sizes(call.body.uploads, interaction.attachment_size_limit)
    state.messages.edit(message.id, call.body.payload(), call.body.uploads)
    state.announce("MESSAGE_UPDATE", message)
    return json_response(message.api())


async def delete_message(state: State, call: Call) -> web.Response:
    interaction = _interaction(state, call)
    message = _message(state, call, interaction)
    state.announce_delete(state.messages.delete(message.id))
    if message.payload in interaction.ephemeral:
        interaction.ephemeral.remove(message.payload)  # dismissed
    return no_content()


def _message(state: State, call: Call, interaction: Interaction) -> StoredMessage:
    """`@original` or a message id; only messages this interaction's token sent."""
    if call.params.get("message_id") is None:
        message_id = interaction.original_message_id
    else:
        message_id = call.snowflake("message_id")
    if message_id is None or message_id not in interaction.message_ids:
        raise unknown_message()
    return state.messages.get(message_id, ephemeral=True)


_ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
_MESSAGE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
ENDPOINTS = [
    Endpoint("POST", "/webhooks/{webhook_id}/{webhook_token}", execute, bot_token=False),
    *(
        Endpoint(method, template, handler, bot_token=False)
        for template in (_ORIGINAL, _MESSAGE)
        for method, handler in (("GET", get_message), ("PATCH", edit_message), ("DELETE", delete_message))
    ),
]
