"""What a member does: use a slash command, click a button or choose in a select menu, in a guild channel
or in their DM with the bot. Each sends INTERACTION_CREATE to the bot's sessions and returns the record of
what the bot answers. (Submitting a modal is in `emulator.modals`.)"""

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from emulator.access import check_command, check_message
from emulator.attachments import public
from emulator.commands import fill_options
from emulator.components import BUTTON, STRING_SELECT, walk
from emulator.interactions import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    Interaction,
    Kind,
    interaction_payload,
    new_token,
    resolved,
)
from emulator.messages import StoredMessage
from emulator.responses import DiscordError
from emulator.state import State
from emulator.uploads import Upload
from emulator.world import Channel


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
    interaction = new_interaction(state, "command", user_id, channel_id, attachment_size_limit)
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
    message = shown_message(state, message_id, user_id, forged=forged)
    buttons = list(_of_type(message.payload["components"], BUTTON))
    button = next((b for b in buttons if b.get("custom_id") == custom_id), None)
    if button is None and unlisted:
        button = {"type": BUTTON, "custom_id": custom_id}
    if button is None:
        ids = [b.get("custom_id") or b.get("url") for b in buttons]
        raise LookupError(f"message {message_id} has no button {custom_id!r}; its buttons: {ids}")
    if button.get("disabled"):
        raise ValueError(f"button {custom_id!r} is disabled")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": BUTTON}
    return _use_component(
        state, message, button, data, user_id=user_id, attachment_size_limit=attachment_size_limit
    )


def choose(
    state: State,
    message_id: int,
    custom_id: str,
    values: Sequence[str],
    *,
    user_id: int,
    attachment_size_limit: int,
    forged: bool = False,
) -> Interaction:
    """The member picks `values` (option values, in the order picked) in the message's string select.
    Raises LookupError when the message is gone or has no such select, PermissionError when the user
    cannot see the message (unless `forged`), ValueError when the select is disabled or the values are
    not its options or too few or too many."""
    message = shown_message(state, message_id, user_id, forged=forged)
    selects = list(_of_type(message.payload["components"], STRING_SELECT))
    select = next((s for s in selects if s.get("custom_id") == custom_id), None)
    if select is None:
        ids = [s.get("custom_id") for s in selects]
        raise LookupError(f"message {message_id} has no string select {custom_id!r}; its selects: {ids}")
    if select.get("disabled"):
        raise ValueError(f"select {custom_id!r} is disabled")
    check_choice(select, values)
    data = {"custom_id": custom_id, "component_type": STRING_SELECT, "values": list(values)}
    return _use_component(
        state, message, select, data, user_id=user_id, attachment_size_limit=attachment_size_limit
    )


def _use_component(
    state: State,
    message: StoredMessage,
    component: dict[str, Any],
    data: dict[str, Any],
    *,
    user_id: int,
    attachment_size_limit: int,
) -> Interaction:
    """Sends the MESSAGE_COMPONENT interaction of the member's use of `component` on `message`."""
    interaction = new_interaction(state, "component", user_id, message.channel_id, attachment_size_limit)
    interaction.clicked_message_id = message.id
    if "id" in component:
        data = {**data, "id": component["id"]}
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


def check_choice(select: dict[str, Any], values: Sequence[str]) -> None:
    """What Discord's client lets a member pick in a string select: some of its options, each once,
    between min_values (default 1) and max_values (default 1) of them."""
    if isinstance(values, str):
        raise TypeError(f"values must be a list of option values, not the string {values!r}")
    name = select.get("custom_id")
    offered = [option["value"] for option in select.get("options") or []]
    unknown = [value for value in values if value not in offered]
    if unknown:
        raise ValueError(f"select {name!r} has no option {unknown[0]!r}; its options: {offered}")
    if len(set(values)) != len(values):
        raise ValueError(f"select {name!r}: each option can be picked once, not {list(values)}")
    low, high = select.get("min_values"), select.get("max_values")
    low, high = 1 if low is None else low, 1 if high is None else high
    if not low <= len(values) <= high:
        raise ValueError(f"select {name!r} takes {low} to {high} values, not {len(values)}")


def shown_message(state: State, message_id: int, user_id: int, *, forged: bool) -> StoredMessage:
    """The message the member acts on; LookupError when it is gone, PermissionError when they cannot
    see it (unless `forged`)."""
    try:
        message = state.messages.get(message_id, ephemeral=True)
    except DiscordError:
        deleted = message_id in state.messages.deleted
        raise LookupError(f"there is no message {message_id} (deleted: {deleted})") from None
    _channel(state, user_id, message.channel_id, forged=forged)
    if not forged:
        check_message(state.world, message.payload, user_id=user_id)
    return message


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


def new_interaction(
    state: State,
    kind: Kind,
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


def _of_type(components: list[dict[str, Any]], kind: int) -> Iterator[dict[str, Any]]:
    """Components of one type anywhere in a message: in action rows, section accessories, containers."""
    return (component for _, component in walk(components) if component.get("type") == kind)
