"""Application commands as the bot registers them, and the options a member fills in when using one."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emulator.snowflakes import Snowflakes
from emulator.uploads import Upload

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
_NESTING = (SUB_COMMAND, SUB_COMMAND_GROUP)
_PYTHON_TYPES: dict[int, type | tuple[type, ...]] = {
    STRING: str,
    INTEGER: int,
    BOOLEAN: bool,
    NUMBER: (int, float),
    USER: int,
    CHANNEL: int,
    ROLE: int,
    MENTIONABLE: int,
    ATTACHMENT: Upload,
}
Attach = Callable[[Upload], str]
"""Stores a file a member picked for an attachment option; returns the attachment's id."""


class CommandRegistry:
    """Global commands (key None) and guild commands, as bulk-overwritten by the bot."""

    def __init__(self, snowflakes: Snowflakes, application_id: int) -> None:
        self._snowflakes = snowflakes
        self._application_id = application_id
        self._commands: dict[int | None, list[dict[str, Any]]] = {}

    def overwrite(self, guild_id: int | None, requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replaces the set; a command keeps its id when one of the same name and type existed."""
        previous = {(c["name"], c["type"]): c["id"] for c in self._commands.get(guild_id, [])}
        commands = []
        for request in requested:
            kind = request.get("type") or 1
            command: dict[str, Any] = {
                "id": previous.get((request["name"], kind)) or str(self._snowflakes.next()),
                "application_id": str(self._application_id),
                "version": str(self._snowflakes.next()),
                "type": kind,
                "name": request["name"],
                "name_localizations": request.get("name_localizations"),
                "description": request.get("description") or "",
                "description_localizations": request.get("description_localizations"),
                "default_member_permissions": _bitfield(request.get("default_member_permissions")),
                "nsfw": bool(request.get("nsfw")),
                "contexts": request.get("contexts"),
                "integration_types": request.get("integration_types") or [0],
            }
            if request.get("options"):
                command["options"] = request["options"]
            if guild_id is None:
                command["dm_permission"] = request.get("dm_permission", True)
            else:
                command["guild_id"] = str(guild_id)
            commands.append(command)
        self._commands[guild_id] = commands
        return commands

    def list(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        return list(self._commands.get(guild_id, []))

    def find(self, name: str, guild_id: int, *, in_dm: bool = False) -> dict[str, Any]:
        """The chat-input command under that name: guild before global in `guild_id`, global first in a DM
        (where a guild command is not offered: see `access`)."""
        scopes = (None, guild_id) if in_dm else (guild_id, None)
        for scope in scopes:
            for command in self._commands.get(scope, []):
                if command["name"] == name and command["type"] == 1:
                    return command
        registered = [c["name"] for scope in scopes for c in self._commands.get(scope, [])]
        raise LookupError(f"the bot never registered a /{name} command (registered: {registered or 'none'})")


def _bitfield(value: object) -> str | None:
    """Discord takes a permission bitfield as a string or an integer and always answers a string."""
    return None if value is None else str(value)


def fill_options(
    command: dict[str, Any], path: Sequence[str], values: Mapping[str, object], attach: Attach
) -> list[dict[str, Any]]:
    """The interaction's `data.options` for `/command path… values`, typed and checked as Discord's client
    would, and nested as Discord nests them: a group (type 2) holds a subcommand (type 1) holds the values.
    `attach` stores a file for an attachment option and gives its id. LookupError for a wrong path."""
    return _fill(f"/{command['name']}", command.get("options") or [], list(path), values, attach)


def _fill(
    where: str, declared: list[dict[str, Any]], path: list[str], values: Mapping[str, object], attach: Attach
) -> list[dict[str, Any]]:
    nested = {option["name"]: option for option in declared if option["type"] in _NESTING}
    if nested or path:
        found = nested.get(path[0]) if path else None
        if found is None:
            named = f"no subcommand {path[0]!r}" if path else "subcommands: name one"
            raise LookupError(f"{where} has {named} (it has {_paths(where, declared) or 'none'})")
        inner = _fill(f"{where} {found['name']}", found.get("options") or [], path[1:], values, attach)
        return [{"name": found["name"], "type": found["type"], "options": inner}]
    by_name = {option["name"]: option for option in declared}
    for name in values:
        if name not in by_name:
            raise ValueError(f"{where} has no option {name!r} (it has {sorted(by_name)})")
    missing = [name for name, option in by_name.items() if option.get("required") and name not in values]
    if missing:
        raise ValueError(f"{where} needs the options {missing}")
    return [_option(by_name[name], value, attach) for name, value in values.items()]


def _paths(where: str, declared: list[dict[str, Any]]) -> list[str]:
    """Every subcommand under `where`, spelled out as Discord's client shows it."""
    found = []
    for option in declared:
        if option["type"] == SUB_COMMAND:
            found.append(f"{where} {option['name']}")
        elif option["type"] == SUB_COMMAND_GROUP:
            found += _paths(f"{where} {option['name']}", option.get("options") or [])
    return found


def _option(option: dict[str, Any], value: object, attach: Attach) -> dict[str, Any]:
    name, kind = option["name"], option["type"]
    expected = _PYTHON_TYPES.get(kind)
    if expected is None:
        raise NotImplementedError(f"option {name!r} has type {kind}, which the emulator does not fill in")
    if not isinstance(value, expected) or (kind in (INTEGER, NUMBER) and isinstance(value, bool)):
        raise ValueError(f"option {name!r} takes {expected}, not {value!r}")
    choices = [choice["value"] for choice in option.get("choices") or []]
    if choices and value not in choices:
        raise ValueError(f"option {name!r} must be one of {choices}, not {value!r}")
    for key, ok in (
        ("min_value", lambda limit: value >= limit),
        ("max_value", lambda limit: value <= limit),
        ("min_length", lambda limit: len(value) >= limit),
        ("max_length", lambda limit: len(value) <= limit),
    ):
        if option.get(key) is not None and not ok(option[key]):
            raise ValueError(f"option {name!r} is outside its {key} of {option[key]}: {value!r}")
    if isinstance(value, Upload):
        value = attach(value)
    elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
        value = str(value)
    return {"name": name, "type": kind, "value": value}
