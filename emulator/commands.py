"""Application commands as the bot registers them, and the options a member fills in when using one."""

from collections.abc import Mapping
from typing import Any

from emulator.snowflakes import Snowflakes

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
_PYTHON_TYPES: dict[int, type | tuple[type, ...]] = {
    STRING: str,
    INTEGER: int,
    BOOLEAN: bool,
    NUMBER: (int, float),
    USER: int,
    CHANNEL: int,
    ROLE: int,
    MENTIONABLE: int,
}


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
                "default_member_permissions": request.get("default_member_permissions"),
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

    def find(self, name: str, guild_id: int) -> dict[str, Any]:
        """The chat-input command a member in `guild_id` would see under that name (guild before global)."""
        for scope in (guild_id, None):
            for command in self._commands.get(scope, []):
                if command["name"] == name and command["type"] == 1:
                    return command
        registered = [c["name"] for scope in (guild_id, None) for c in self._commands.get(scope, [])]
        raise LookupError(f"the bot never registered a /{name} command (registered: {registered or 'none'})")


def fill_options(command: dict[str, Any], values: Mapping[str, object]) -> list[dict[str, Any]]:
    """The interaction's `options` for `values`, typed and checked as Discord's client would."""
    declared = {option["name"]: option for option in command.get("options", [])}
    if any(option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for option in declared.values()):
        raise NotImplementedError(f"/{command['name']} has subcommands, which the emulator does not fill in")
    for name in values:
        if name not in declared:
            raise ValueError(f"/{command['name']} has no option {name!r} (it has {sorted(declared)})")
    missing = [name for name, option in declared.items() if option.get("required") and name not in values]
    if missing:
        raise ValueError(f"/{command['name']} needs the options {missing}")
    return [_option(declared[name], value) for name, value in values.items()]


def _option(option: dict[str, Any], value: object) -> dict[str, Any]:
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
    return {
        "name": name,
        "type": kind,
        "value": str(value) if kind in (USER, CHANNEL, ROLE, MENTIONABLE) else value,
    }
