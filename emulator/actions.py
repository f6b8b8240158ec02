"""What a member does: use a slash command or click a button. Each sends INTERACTION_CREATE to the
bot's sessions and returns the record of what the bot answers."""

import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from emulator.commands import fill_options
from emulator.interactions import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    Interaction,
    interaction_payload,
    new_token,
    resolved,
)
from emulator.responses import DiscordError
from emulator.state import State

BUTTON = 2


def use_command(
    state: State,
    name: str,
    options: Mapping[str, object],
    *,
    user_id: int,
    channel_id: int,
    attachment_size_limit: int,
) -> Interaction:
    """Raises LookupError when the bot never registered the command, ValueError for bad options."""
    world = state.world
    command = state.commands.find(name, world.guild_id)
    filled = fill_options(command, options)
    data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
    if filled:
        data["options"] = filled
    if found := resolved(world, filled, user_id):
        data["resolved"] = found
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    interaction = _new(state, "command", user_id, channel_id, attachment_size_limit)
    payload = interaction_payload(
        world, interaction, application_id=state.application_id, type=APPLICATION_COMMAND, data=data
    )
    state.gateway.publish("INTERACTION_CREATE", payload)
    return interaction


def click_button(
    state: State, message_id: int, custom_id: str, *, user_id: int, attachment_size_limit: int
) -> Interaction:
    """Raises LookupError when the message is gone or has no such button, ValueError when it is disabled."""
    try:
        message = state.messages.get(message_id, ephemeral=True)
    except DiscordError:
        deleted = message_id in state.messages.deleted
        raise LookupError(f"there is no message {message_id} (deleted: {deleted})") from None
    buttons = list(_buttons(message.payload["components"]))
    button = next((b for b in buttons if b.get("custom_id") == custom_id), None)
    if button is None:
        ids = [b.get("custom_id") or b.get("url") for b in buttons]
        raise LookupError(f"message {message_id} has no button {custom_id!r}; its buttons: {ids}")
    if button.get("disabled"):
        raise ValueError(f"button {custom_id!r} is disabled")
    interaction = _new(state, "component", user_id, message.channel_id, attachment_size_limit)
    interaction.clicked_message_id = message_id
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": BUTTON}
    if "id" in button:
        data["id"] = button["id"]
    payload = interaction_payload(
        state.world,
        interaction,
        application_id=state.application_id,
        type=MESSAGE_COMPONENT,
        data=data,
        message=message.api(),
    )
    state.gateway.publish("INTERACTION_CREATE", payload)
    return interaction


def _new(
    state: State,
    kind: Literal["command", "component"],
    user_id: int,
    channel_id: int,
    attachment_size_limit: int,
) -> Interaction:
    state.world.member(user_id)
    if channel_id not in state.world.channels:
        raise LookupError(f"there is no channel {channel_id} in the guild")
    interaction_id = state.snowflakes.next()
    interaction = Interaction(
        id=interaction_id,
        token=new_token(interaction_id),
        kind=kind,
        user_id=user_id,
        channel_id=channel_id,
        created_at=time.time(),
        attachment_size_limit=attachment_size_limit,
    )
    state.interactions.add(interaction)
    return interaction


def _buttons(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Buttons anywhere in a message: in action rows, section accessories and containers."""
    for component in components:
        if component.get("type") == BUTTON:
            yield component
        yield from _buttons(component.get("components") or [])
        if isinstance(component.get("accessory"), dict):
            yield from _buttons([component["accessory"]])
