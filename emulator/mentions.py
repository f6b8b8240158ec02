"""Who a message pings, from its content and `allowed_mentions`, by Discord's rules.

Without `allowed_mentions` everything in the content pings. With it, a user pings only when `parse`
has "users" or the id is in `users` (the same for roles), and @everyone/@here only when `parse` has
"everyone". The emulator lets every author mention everyone, so `allowed_mentions` alone decides."""

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Mentions:
    users: list[int]
    roles: list[int]
    everyone: bool


def parse_mentions(
    content: str,
    allowed: Mapping[str, Any] | None,
    *,
    users: Container[int],
    roles: Container[int],
) -> Mentions:
    """Raises ValueError for an `allowed_mentions` Discord refuses (`parse` and a list of the same kind)."""
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    allowed_users = {int(user) for user in (allowed or {}).get("users") or []}
    allowed_roles = {int(role) for role in (allowed or {}).get("roles") or []}
    for kind, listed in (("users", allowed_users), ("roles", allowed_roles)):
        if kind in parse and listed:
            raise ValueError(f"parse:{kind} and {kind} are mutually exclusive")
    user_ids = [
        user
        for user in _unique(_USER.findall(content))
        if user in users and ("users" in parse or user in allowed_users)
    ]
    role_ids = [
        role
        for role in _unique(_ROLE.findall(content))
        if role in roles and ("roles" in parse or role in allowed_roles)
    ]
    everyone = "everyone" in parse and _EVERYONE.search(content) is not None
    return Mentions(user_ids, role_ids, everyone)


def _unique(ids: list[str]) -> list[int]:
    return list(dict.fromkeys(int(found) for found in ids))
