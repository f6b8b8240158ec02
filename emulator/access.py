"""What a member's Discord client lets them do: which commands it offers where, and which messages it
shows them to click. A test can bypass both (`forged=True`), as a hand-made interaction would, so that
the bot's own checks are what gets tested."""

from typing import Any

from emulator.interactions import BOT_DM_CONTEXT, GUILD_CONTEXT
from emulator.messages import EPHEMERAL
from emulator.permissions import ADMINISTRATOR
from emulator.world import Channel, World


def check_command(world: World, command: dict[str, Any], *, user_id: int, channel: Channel) -> None:
    """Raises PermissionError when the client would not offer the command to this user in this channel."""
    name = f"/{command['name']}"
    contexts = command.get("contexts")
    if channel.recipient_id is not None:
        if "guild_id" in command:
            raise PermissionError(f"{name} is a guild command: Discord does not offer it in DMs")
        if (contexts is None and command.get("dm_permission") is False) or (
            contexts is not None and BOT_DM_CONTEXT not in contexts
        ):
            raise PermissionError(f"{name} is guild-only (contexts {contexts}): not offered in DMs")
        if command.get("nsfw"):
            raise PermissionError(f"{name} is age-restricted: Discord does not offer it in DMs")
        return  # default_member_permissions apply to server members only
    if "guild_id" not in command and contexts is not None and GUILD_CONTEXT not in contexts:
        raise PermissionError(f"{name} is not offered in servers (contexts {contexts})")
    if command.get("nsfw") and not channel.nsfw:
        raise PermissionError(f"{name} is age-restricted: offered only in age-restricted channels")
    required = command.get("default_member_permissions")
    if required is None or user_id == world.owner_id:
        return
    permissions = world.permissions(user_id)
    if permissions & ADMINISTRATOR:
        return
    if int(required) == 0 or permissions & int(required) != int(required):
        raise PermissionError(
            f"{name} needs the permissions {required} (default_member_permissions); "
            f"user {user_id} has {permissions}, so Discord hides it from them"
        )


def check_message(world: World, message: dict[str, Any], *, user_id: int) -> None:
    """Raises PermissionError when the user cannot see the message: someone else's DM with the bot, or
    an ephemeral message shown to another member."""
    channel = world.channel(int(message["channel_id"]))
    if channel.recipient_id is not None and channel.recipient_id != user_id:
        raise PermissionError(
            f"message {message['id']} is in the bot's DM with user {channel.recipient_id}, "
            f"which user {user_id} cannot see"
        )
    owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
    if message["flags"] & EPHEMERAL and owner != str(user_id):
        raise PermissionError(f"message {message['id']} is ephemeral: only user {owner} sees it")
