"""The emulated Discord world: one guild with its channels, roles and members, and the bot user.

Payload builders here give the shapes the gateway and REST API use for these objects."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.permissions import ADMINISTRATOR, ALL_PERMISSIONS, BOT_PERMISSIONS, MEMBER_PERMISSIONS
from emulator.responses import DiscordError
from emulator.snowflakes import Snowflakes, iso_time

TEXT_CHANNEL, DM_CHANNEL = 0, 1
GUILDS_INTENT = 1 << 0
MEMBERS_INTENT = 1 << 1


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    accepts_dms: bool = True
    """Whether the user lets members of the server DM them (Privacy settings); bots take no DMs."""


@dataclass
class Member:
    user_id: int
    roles: list[int]
    joined_at: float
    permissions: int | None = None
    """Overrides the permissions computed from roles (as channel overwrites would)."""


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int
    managed: bool = False


@dataclass
class Channel:
    id: int
    name: str
    position: int
    type: int = TEXT_CHANNEL
    nsfw: bool = False
    """Age-restricted: only then may a member use a command registered with `nsfw`."""
    recipient_id: int | None = None
    """The user at the other end of a DM with the bot."""


@dataclass
class World:
    snowflakes: Snowflakes
    guild_name: str = "Imagine Test Server"
    bot_name: str = "Imagine"
    users: dict[int, User] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    """The guild's channels; DMs between the bot and a user are in `dms`."""
    dms: dict[int, Channel] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.guild_id = self.snowflakes.next()
        self.roles[self.guild_id] = Role(self.guild_id, "@everyone", MEMBER_PERMISSIONS, 0)
        self.created_at = time.time()
        self.owner_id = self.add_member("server-owner")
        self.bot_user_id = self.snowflakes.next()
        self.users[self.bot_user_id] = User(self.bot_user_id, self.bot_name, bot=True, accepts_dms=False)
        bot_role = self.snowflakes.next()
        self.roles[bot_role] = Role(bot_role, self.bot_name, BOT_PERMISSIONS, 1, managed=True)
        self.members[self.bot_user_id] = Member(self.bot_user_id, [bot_role], time.time())
        for name in ("general", "art"):
            self.add_channel(name)

    def add_member(
        self,
        username: str,
        *,
        roles: Sequence[int] = (),
        permissions: int | None = None,
        accepts_dms: bool = True,
    ) -> int:
        for role_id in roles:
            self.role(role_id)
        user_id = self.snowflakes.next()
        self.users[user_id] = User(user_id, username, accepts_dms=accepts_dms)
        self.members[user_id] = Member(user_id, list(roles), time.time(), permissions)
        return user_id

    def add_role(self, name: str, permissions: int) -> int:
        role_id = self.snowflakes.next()
        self.roles[role_id] = Role(role_id, name, permissions, len(self.roles))
        return role_id

    def add_channel(self, name: str, *, nsfw: bool = False) -> int:
        """A text channel at the bottom of the list; names are unique here, as `channel_id` looks them up."""
        if not 1 <= len(name) <= 100:
            raise ValueError(f"a channel name has 1 to 100 characters, not {len(name)}")
        if any(channel.name == name for channel in self.channels.values()):
            raise ValueError(f"the guild already has a channel named {name!r}")
        channel_id = self.snowflakes.next()
        self.channels[channel_id] = Channel(channel_id, name, len(self.channels), nsfw=nsfw)
        return channel_id

    def open_dm(self, user_id: int) -> Channel:
        """The DM between the bot and the user, created the first time (as `POST /users/@me/channels`)."""
        if user_id not in self.users:
            raise DiscordError(404, 10013, "Unknown User")
        found = self.dm_channel_id(user_id)
        if found is not None:
            return self.dms[found]
        channel_id = self.snowflakes.next()
        channel = self.dms[channel_id] = Channel(channel_id, "", 0, type=DM_CHANNEL, recipient_id=user_id)
        return channel

    def dm_channel_id(self, user_id: int) -> int | None:
        return next((channel.id for channel in self.dms.values() if channel.recipient_id == user_id), None)

    def channel_id(self, name: str) -> int:
        for channel in self.channels.values():
            if channel.name == name:
                return channel.id
        raise KeyError(f"no channel named {name!r}; the guild has {[c.name for c in self.channels.values()]}")

    def channel(self, channel_id: int) -> Channel:
        """A guild channel or a DM, or Discord's Unknown Channel."""
        channel = self.channels.get(channel_id) or self.dms.get(channel_id)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def role(self, role_id: int) -> Role:
        try:
            return self.roles[role_id]
        except KeyError:
            raise KeyError(f"no role {role_id} in the guild") from None

    def member(self, user_id: int) -> Member:
        try:
            return self.members[user_id]
        except KeyError:
            raise KeyError(f"user {user_id} is not a member of the guild: add_member() first") from None

    def permissions(self, user_id: int) -> int:
        """As Discord computes them: ADMINISTRATOR (or owning the server) means every permission."""
        member = self.member(user_id)
        if member.permissions is not None:
            permissions = member.permissions
        elif user_id == self.owner_id:
            return ALL_PERMISSIONS
        else:
            permissions = self.roles[self.guild_id].permissions
            for role_id in member.roles:
                permissions |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions

    def user_payload(self, user_id: int) -> dict[str, Any]:
        user = self.users[user_id]
        payload: dict[str, Any] = {
            "id": str(user.id),
            "username": user.username,
            "discriminator": "0",
            "global_name": None if user.bot else user.username,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        if user.bot:
            payload["bot"] = True
        return payload

    def member_payload(self, user_id: int, *, with_permissions: bool = False) -> dict[str, Any]:
        member = self.member(user_id)
        payload: dict[str, Any] = {
            "user": self.user_payload(user_id),
            "roles": [str(role) for role in member.roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": iso_time(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions:
            payload["permissions"] = str(self.permissions(user_id))
        return payload

    def role_payload(self, role_id: int) -> dict[str, Any]:
        role = self.roles[role_id]
        payload: dict[str, Any] = {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": role.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": role.managed,
            "mentionable": False,
            "flags": 0,
        }
        if role.managed:
            payload["tags"] = {"bot_id": str(self.bot_user_id)}
        return payload

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        channel = self.channel(channel_id)
        if channel.recipient_id is not None:
            return {
                "id": str(channel.id),
                "type": channel.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.user_payload(channel.recipient_id)],
            }
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(self.guild_id),
            "name": channel.name,
            "position": channel.position,
            "parent_id": None,
            "topic": None,
            "nsfw": channel.nsfw,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "permission_overwrites": [],
            "flags": 0,
        }

    def guild_payload(self) -> dict[str, Any]:
        """The guild as `GET /guilds/{id}` returns it."""
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "system_channel_id": str(next(iter(self.channels))),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "roles": [self.role_payload(role_id) for role_id in self.roles],
            "emojis": [],
            "stickers": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
        }

    def guild_create(self, intents: int) -> dict[str, Any]:
        """The GUILD_CREATE dispatch: members beyond the bot only with the members intent."""
        members = self.members if intents & MEMBERS_INTENT else [self.bot_user_id]
        channels = [self.channel_payload(channel_id) for channel_id in self.channels]
        for channel in channels:
            del channel["guild_id"]  # GUILD_CREATE's channels leave it out
        return {
            **self.guild_payload(),
            "joined_at": iso_time(self.members[self.bot_user_id].joined_at),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "members": [self.member_payload(user_id) for user_id in members],
            "channels": channels,
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
