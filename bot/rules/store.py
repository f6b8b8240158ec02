"""Server and member configuration in Redis: validated, versioned documents with an audit trail.

Every bot process reads the documents when it needs them (one GET per interaction), so a change
made through any process applies to the very next interaction everywhere. Writes are optimistic
transactions (WATCH/MULTI): two admins changing different things at once both keep their change.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from redis import Redis
from redis.exceptions import WatchError

from bot.rules.guild import STORED, GuildConfig
from bot.rules.member import MemberPreferences
from jobs import keys
from jobs.errors import MemberError

AUDIT_KEPT = 500
"""Audit entries kept per server, newest first."""

Document = TypeVar("Document", GuildConfig, MemberPreferences)


class ConfigError(MemberError, ValueError):
    """A stored or imported document that cannot be used; the message is for an admin."""

    preface = "That can't be saved: "


class AuditEntry(BaseModel):
    """One change to a server's configuration: who, when, and what changed."""

    model_config = ConfigDict(frozen=True)

    at: float
    actor_id: int
    actor: str
    revision: int
    changes: tuple[str, ...]


class ConfigStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def guild(self, guild_id: int) -> GuildConfig:
        """The server's configuration; the defaults for a server that never changed any."""
        return _load(GuildConfig, self._redis.get(keys.guild_config_key(guild_id)))

    def change_guild(
        self, guild_id: int, actor_id: int, actor: str, change: Callable[[GuildConfig], GuildConfig]
    ) -> tuple[GuildConfig, tuple[str, ...]]:
        """Applies `change` to the current document and records who did it; returns the new
        document and the changes, one line per setting (none when nothing changed)."""
        audit_key = keys.guild_audit_key(guild_id)

        def record(pipe: Any, before: GuildConfig, after: GuildConfig) -> tuple[str, ...]:
            lines = describe_changes(before, after)
            if lines:
                entry = AuditEntry(
                    at=time.time(), actor_id=actor_id, actor=actor, revision=after.revision, changes=lines
                )
                pipe.lpush(audit_key, entry.model_dump_json())
                pipe.ltrim(audit_key, 0, AUDIT_KEPT - 1)
            return lines

        return self._update(keys.guild_config_key(guild_id), GuildConfig, change, record)

    def audit(self, guild_id: int, count: int) -> list[AuditEntry]:
        """The latest `count` changes, newest first."""
        raw = self._redis.lrange(keys.guild_audit_key(guild_id), 0, count - 1)
        return [AuditEntry.model_validate_json(entry) for entry in raw]

    def member(self, member_id: int) -> MemberPreferences:
        return _load(MemberPreferences, self._redis.get(keys.preferences_key(member_id)))

    def change_member(
        self, member_id: int, change: Callable[[MemberPreferences], MemberPreferences]
    ) -> MemberPreferences:
        document, _ = self._update(keys.preferences_key(member_id), MemberPreferences, change, lambda *_: ())
        return document

    def _update(
        self,
        key: str,
        kind: type[Document],
        change: Callable[[Document], Document],
        record: Callable[[Any, Document, Document], tuple[str, ...]],
    ) -> tuple[Document, tuple[str, ...]]:
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    before = _load(kind, pipe.get(key))
                    changed = change(before)
                    # model_copy skips validation: validate the whole document again.
                    revision = before.revision + (changed != before)
                    try:
                        after = kind.model_validate(
                            {**changed.model_dump(), "revision": revision}, context={"before": before}
                        )
                    except ValidationError as error:
                        raise ConfigError(_problems(error)) from None
                    pipe.multi()
                    if after != before:
                        pipe.set(key, after.model_dump_json())
                    lines = record(pipe, before, after)
                    pipe.execute()
                    return after, lines
                except WatchError:
                    continue


def read_document(kind: type[Document], raw: bytes | str) -> Document:
    """A document as we stored it, or ConfigError saying what is wrong. Lax: what an older
    version of the bot wrote still loads (see `STORED`)."""
    try:
        return kind.model_validate_json(raw, context=STORED)
    except ValidationError as error:
        raise ConfigError(_problems(error)) from None


def read_import(raw: bytes | str, models: Sequence[str], loras: Sequence[str]) -> GuildConfig:
    """An admin's file for `/admin import`, or ConfigError saying what is wrong. Strict: JSON types
    as exported (`"3"` is no number), every item checked, models and LoRAs among the catalog's
    `models` and `loras`."""
    try:
        config = GuildConfig.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise ConfigError(_problems(error)) from None
    named = [*sorted(config.models.offered or ()), *([config.models.default] * bool(config.models.default))]
    unknown = [name for name in named if name not in models]
    if unknown:
        served = ", ".join(f"`{name}`" for name in models)
        raise ConfigError(f"models: the workers serve no model `{unknown[0]}`. They serve: {served}")
    default = config.models.default
    if default and not config.models.offers(default):
        raise ConfigError(f"models.default: `{default}` isn't offered: add it to models.offered")
    unknown = [name for name in sorted(config.loras.offered or ()) if name not in loras]
    if unknown:
        listed = ", ".join(f"`{name}`" for name in loras) or "none"
        raise ConfigError(f"loras.offered: the catalog has no LoRA `{unknown[0]}`. It has: {listed}")
    return config


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'the document'}: {problem['msg']}"
        for problem in error.errors()[:5]
    )


def describe_changes(before: BaseModel, after: BaseModel) -> tuple[str, ...]:
    """`limits.waiting: 10 → 5`, one line per setting that differs (the revision aside)."""
    old, new = _flatten(before.model_dump(mode="json")), _flatten(after.model_dump(mode="json"))
    lines = []
    for path in sorted(old.keys() | new.keys()):
        if path == "revision" or old.get(path) == new.get(path):
            continue
        was, now = old.get(path), new.get(path)
        if isinstance(was, list) and isinstance(now, list):
            added = [item for item in now if item not in was]
            removed = [item for item in was if item not in now]
            parts = [f"+{added}" if added else "", f"-{removed}" if removed else ""]
            lines.append(f"{path}: {' '.join(part for part in parts if part)}")
        else:
            lines.append(f"{path}: {_show(was)} → {_show(now)}")
    return tuple(lines)


def _flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in document.items():
        if isinstance(value, dict) and name != "options":
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _show(value: object) -> str:
    return "unset" if value is None else str(value)


def _load(kind: type[Document], raw: bytes | str | None) -> Document:
    return kind() if raw is None else read_document(kind, raw)
