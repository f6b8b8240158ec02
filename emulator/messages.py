"""Messages as Discord keeps them: content, components, embeds, attachments (with their bytes),
mentions, flags and edits."""

import copy
import time
from dataclasses import dataclass
from typing import Any

from emulator.attachments import make_attachment, option_attachment, public
from emulator.bodies import Upload
from emulator.components import check_message_components
from emulator.mentions import parse_mentions
from emulator.responses import DiscordError, field_error, invalid_form, unknown_message
from emulator.snowflakes import Snowflakes, iso_time
from emulator.uploads import Upload as OptionUpload
from emulator.world import World

EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Flags a sender may set: SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2 (and EPHEMERAL,
# which only interaction responses may use: the caller passes it on).
_SETTABLE_FLAGS = (1 << 2) | (1 << 12) | (1 << 15)
MAX_CONTENT = 2000
NONCE_WINDOW = 300.0
"""Seconds during which `enforce_nonce` returns the earlier message instead of creating another."""


@dataclass
class StoredMessage:
    payload: dict[str, Any]
    """The message object, its attachments with `data` (their bytes) added."""
    author_id: int
    created: float
    ephemeral: bool = False

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    def api(self) -> dict[str, Any]:
        """The message as the REST API and the gateway send it."""
        return {**self.payload, "attachments": [public(a) for a in self.payload["attachments"]]}

    def view(self) -> dict[str, Any]:
        """A copy for readers, attachments' `data` included."""
        return copy.deepcopy(self.payload)


class MessageStore:
    def __init__(self, world: World, snowflakes: Snowflakes) -> None:
        self._world = world
        self._snowflakes = snowflakes
        self._messages: dict[int, StoredMessage] = {}
        self.deleted: list[int] = []
        self.attachments: dict[int, dict[str, Any]] = {}
        """Attachment id → attachment (with `data`), for downloads through its URL."""
        self.base_url = ""

    def create(
        self,
        channel_id: int,
        request: dict[str, Any],
        uploads: list[Upload],
        *,
        author_id: int,
        type: int = 0,
        flags: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """A new message from `request` (a message create/execute-webhook body) and its uploads."""
        self._world.channel(channel_id)
        message_id = self._snowflakes.next()
        content = _content(request)
        mentions = self._mentions(content, request.get("allowed_mentions"))
        payload: dict[str, Any] = {
            "id": str(message_id),
            "type": type,
            "channel_id": str(channel_id),
            "author": self._world.user_payload(author_id),
            "content": content,
            "timestamp": iso_time(time.time()),
            "edited_timestamp": None,
            "tts": bool(request.get("tts")),
            "flags": ((request.get("flags") or 0) & _SETTABLE_FLAGS) | flags,
            "pinned": False,
            "embeds": _embeds(request.get("embeds")),
            "components": _components(request.get("components")),
            "attachments": self._attachments(channel_id, [], request.get("attachments"), uploads),
            **mentions,
            **(extra or {}),
        }
        if request.get("nonce") is not None:
            payload["nonce"] = request["nonce"]
        if not flags & LOADING:
            _require_something(payload, request)
        stored = StoredMessage(payload, author_id, time.time(), bool(flags & EPHEMERAL))
        self._messages[message_id] = stored
        return stored

    def edit(self, message_id: int, request: dict[str, Any], uploads: list[Upload]) -> StoredMessage:
        """Applies an edit; mentions are parsed again only when the content changes (Discord's rule)."""
        stored = self.get(message_id, ephemeral=True)
        payload = dict(stored.payload)
        if "content" in request:
            payload["content"] = _content(request)
            payload.update(self._mentions(payload["content"], request.get("allowed_mentions")))
        if "embeds" in request:
            payload["embeds"] = _embeds(request["embeds"])
        if "components" in request:
            payload["components"] = _components(request["components"])
        if request.get("flags") is not None:
            payload["flags"] = (payload["flags"] & ~_SETTABLE_FLAGS) | (request["flags"] & _SETTABLE_FLAGS)
        if "attachments" in request or uploads:
            metas = (request["attachments"] or []) if "attachments" in request else None
            payload["attachments"] = self._attachments(
                stored.channel_id, payload["attachments"], metas, uploads
            )
        payload["flags"] &= ~LOADING
        payload["edited_timestamp"] = iso_time(time.time())
        _require_something(payload, request)
        stored.payload.update(payload)  # in place: readers may hold the message object
        return stored

    def delete(self, message_id: int) -> StoredMessage:
        stored = self.get(message_id, ephemeral=True)
        del self._messages[message_id]
        self.deleted.append(message_id)
        for attachment in stored.payload["attachments"]:
            self.attachments.pop(int(attachment["id"]), None)
        return stored

    def get(
        self, message_id: int, *, channel_id: int | None = None, ephemeral: bool = False
    ) -> StoredMessage:
        """The message, or Discord's Unknown Message; ephemeral ones only when asked for."""
        stored = self._messages.get(message_id)
        if stored is None or (stored.ephemeral and not ephemeral):
            raise unknown_message()
        if channel_id is not None and stored.channel_id != channel_id:
            raise unknown_message()
        return stored

    def in_channel(self, channel_id: int) -> list[StoredMessage]:
        """The channel's messages that everyone sees, oldest first."""
        found = (m for m in self._messages.values() if m.channel_id == channel_id and not m.ephemeral)
        return sorted(found, key=lambda message: message.id)

    def find_nonce(self, author_id: int, nonce: object) -> StoredMessage | None:
        cutoff = time.time() - NONCE_WINDOW
        for stored in self._messages.values():
            if (
                stored.author_id == author_id
                and stored.payload.get("nonce") == nonce
                and stored.created > cutoff
            ):
                return stored
        return None

    def _mentions(self, content: str, allowed: dict[str, Any] | None) -> dict[str, Any]:
        try:
            found = parse_mentions(content, allowed, users=self._world.members, roles=self._world.roles)
        except ValueError as error:
            code = "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"
            raise invalid_form(field_error(("allowed_mentions",), code, str(error))) from None
        return {
            "mentions": [self._mentioned(user_id) for user_id in found.users],
            "mention_roles": [str(role_id) for role_id in found.roles],
            "mention_everyone": found.everyone,
        }

    def _mentioned(self, user_id: int) -> dict[str, Any]:
        member = self._world.member_payload(user_id)
        return {**member.pop("user"), "member": member}

    def _attachments(
        self,
        channel_id: int,
        current: list[dict[str, Any]],
        metas: list[dict[str, Any]] | None,
        uploads: list[Upload],
    ) -> list[dict[str, Any]]:
        """The attachments after a create or edit. With `metas` (the request's `attachments`) exactly
        those: current ones by id, uploads by their `files[n]` index; without, current plus uploads."""
        by_id = {attachment["id"]: attachment for attachment in current}
        by_index = {upload.index: upload for upload in uploads}
        result = [] if metas is not None else list(current)
        for meta in metas or []:
            key = str(meta.get("id"))
            if key in by_id:
                result.append(by_id[key])
            elif key.isdigit() and int(key) in by_index:
                result.append(self._store_attachment(channel_id, by_index.pop(int(key)), meta))
            else:
                raise invalid_form(
                    field_error(("attachments",), "ATTACHMENT_NOT_FOUND", "Unknown attachment")
                )
        result += [self._store_attachment(channel_id, upload, {}) for upload in by_index.values()]
        kept = {attachment["id"] for attachment in result}
        for attachment in current:
            if attachment["id"] not in kept:
                self.attachments.pop(int(attachment["id"]), None)
        return result

    def add_option_file(self, channel_id: int, upload: OptionUpload) -> dict[str, Any]:
        """Stores a file a member picked for an attachment option; its URL downloads it until the
        emulator stops (Discord keeps such ephemeral attachments a while)."""
        attachment_id = self._snowflakes.next()
        attachment = option_attachment(attachment_id, upload, channel_id=channel_id, base_url=self.base_url)
        self.attachments[attachment_id] = attachment
        return attachment

    def _store_attachment(self, channel_id: int, upload: Upload, meta: dict[str, Any]) -> dict[str, Any]:
        attachment_id = self._snowflakes.next()
        attachment = make_attachment(
            attachment_id, upload, meta, channel_id=channel_id, base_url=self.base_url
        )
        self.attachments[attachment_id] = attachment
        return attachment


def _content(request: dict[str, Any]) -> str:
    content = request.get("content") or ""
    if len(content) > MAX_CONTENT:
        message = f"Must be {MAX_CONTENT} or fewer in length."
        raise invalid_form(field_error(("content",), "BASE_TYPE_MAX_LENGTH", message))
    return content


def _components(components: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    check_message_components(components or [])
    return components or []


def _embeds(embeds: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"type": "rich", **embed} for embed in embeds or []]


def _require_something(payload: dict[str, Any], request: dict[str, Any]) -> None:
    parts = ("content", "embeds", "components", "attachments")
    if (
        not any(payload[part] for part in parts)
        and not request.get("sticker_ids")
        and not request.get("poll")
    ):
        raise DiscordError(400, 50006, "Cannot send an empty message")
