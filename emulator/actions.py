"""What a member does: use a slash command or click a button, in a guild channel or in their DM with the
bot. Each sends INTERACTION_CREATE to the bot's sessions and returns the record of what the bot answers."""

import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from emulator.access import check_command, check_message
from emulator.attachments import public
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
from emulator.uploads import Upload
from emulator.world import Channel

BUTTON = 2


def use_command(
    state: State,
    name: str,
    options: Mapping[str, object],
    *,
    user_id: int,
    channel_id: int,
    attachment_size_limit: int,
    forged: bool = False,
) -> Interaction:
    """`name` is the command as Discord's client shows it ("admin limits set"). Raises LookupError when
    the bot never registered it (or has no such subcommand), PermissionError when the client would not
    offer it to this user here (unless `forged`), ValueError for bad options."""
    world = state.world
    command_name, *path = name.split()
    channel = _channel(state, user_id, channel_id, forged=forged)
    command = state.commands.find(command_name, world.guild_id, in_dm=channel.recipient_id is not None)
    if not forged:
        check_command(world, command, user_id=user_id, channel=channel)
    files: dict[str, dict[str, Any]] = {}

    def attach(upload: Upload) -> str:
        if len(upload.data) > attachment_size_limit:
            raise ValueError(f"{upload.filename} is over the upload limit of {attachment_size_limit} bytes")
        attachment = state.messages.add_option_file(channel_id, upload)
        files[attachment["id"]] = public(attachment)
        return attachment["id"]

    filled = fill_options(command, path, options, attach)
    data: dict[str, Any] = {"id": command["id"], "name": command_name, "type": 1}
    if filled:
        data["options"] = filled
    found = resolved(world, filled, user_id)
    if files:
        found["attachments"] = files
    if found:
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
    state: State,
    message_id: int,
    custom_id: str,
    *,
    user_id: int,
    attachment_size_limit: int,
    forged: bool = False,
    unlisted: bool = False,
) -> Interaction:
    """Raises LookupError when the message is gone or has no such button (unless `unlisted`),
    PermissionError when the user cannot see the message (unless `forged`), ValueError when the button
    is disabled. With `unlisted` a custom_id the message does not show is delivered as a plain
    button's, as a hand-made interaction would."""
    try:
        message = state.messages.get(message_id, ephemeral=True)
    except DiscordError:
        deleted = message_id in state.messages.deleted
        raise LookupError(f"there is no message {message_id} (deleted: {deleted})") from None
    _channel(state, user_id, message.channel_id, forged=forged)
    if not forged:
        check_message(state.world, message.payload, user_id=user_id)
    buttons = list(_buttons(message.payload["components"]))
    button = next((b for b in buttons if b.get("custom_id") == custom_id), None)
    if button is None and unlisted:
        button = {"type": BUTTON, "custom_id": custom_id}
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


def _channel(state: State, user_id: int, channel_id: int, *, forged: bool) -> Channel:
    """Where the user acts: a guild channel (they must be a member) or a DM (theirs, unless forged)."""
    world = state.world
    channel = world.channels.get(channel_id) or world.dms.get(channel_id)
    if channel is None:
        raise LookupError(f"there is no channel {channel_id} in the guild, nor a DM with that id")
    if channel.recipient_id is None:
        world.member(user_id)
    elif user_id not in world.users:
        raise LookupError(f"there is no user {user_id}")
    elif channel.recipient_id != user_id and not forged:
        raise PermissionError(f"channel {channel_id} is the bot's DM with user {channel.recipient_id}")
    return channel


def _new(
    state: State,
    kind: Literal["command", "component"],
    user_id: int,
    channel_id: int,
    attachment_size_limit: int,
) -> Interaction:
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
