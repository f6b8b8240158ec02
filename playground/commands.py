"""What the playground's message box sends: `/imagine a red fox --ar 3:2` or
`/admin limits set waiting: 3` read against the commands the bot registered, as Discord's client
fills in a command's options."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emulator import Upload
from emulator.commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)

_NAMED = re.compile(r"(?:^|\s)([a-z0-9_-]+):\s*")
_TRUE = {"true", "yes", "on", "1"}


class CommandError(ValueError):
    """The text is not a command the bot offers, or an option does not fit; str() says why."""


@dataclass(frozen=True)
class Typed:
    name: str
    """`admin limits set`: the command and its subcommand path."""
    options: dict[str, object]


def read_command(
    text: str,
    commands: list[dict[str, Any]],
    names: dict[str, dict[str, int]],
    files: Sequence[Upload] = (),
) -> Typed:
    """`text` (after its `/`) as a command use. `names` maps "channels" and "roles" names to ids,
    so `channel: art` or `role: @artists` can be typed; `files` fill the command's file options, in
    order, as files dropped on Discord's message box do."""
    words = text.strip().removeprefix("/").split(" ", 1)
    command = next((c for c in commands if c["name"] == words[0] and c.get("type", 1) == 1), None)
    if command is None:
        offered = ", ".join(sorted(f"/{c['name']}" for c in commands if c.get("type", 1) == 1))
        raise CommandError(f"There is no /{words[0]} here. Try {offered}.")
    path, node, rest = [command["name"]], command, words[1] if len(words) > 1 else ""
    while any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in node.get("options", [])):
        choices = {o["name"]: o for o in node["options"]}
        head, _, rest = rest.strip().partition(" ")
        if head not in choices:
            listed = ", ".join(f"/{' '.join(path)} {name}" for name in choices)
            raise CommandError(f"Say which one: {listed}.")
        path.append(head)
        node = choices[head]
    options = _options(node.get("options", []), rest.strip(), names)
    return Typed(" ".join(path), {**options, **_files(node.get("options", []), files, f"/{' '.join(path)}")})


def _files(declared: list[dict[str, Any]], files: Sequence[Upload], command: str) -> dict[str, object]:
    slots = [option["name"] for option in declared if option["type"] == ATTACHMENT]
    if len(files) > len(slots):
        takes = f"at most {len(slots)} files" if slots else "no files"
        raise CommandError(f"{command} takes {takes}; {len(files)} are attached.")
    return dict(zip(slots, files, strict=False))


def _options(
    declared: list[dict[str, Any]], text: str, names: dict[str, dict[str, int]]
) -> dict[str, object]:
    if not declared or not text:
        return {}
    by_name = {option["name"]: option for option in declared}
    marks = [m for m in _NAMED.finditer(text) if m[1] in by_name]
    if not marks:  # `/imagine a fox`: all of it is the first option
        return {declared[0]["name"]: _value(declared[0], text, names)}
    if text[: marks[0].start()].strip():
        raise CommandError(
            f"Write options as `name: value`; `{text[: marks[0].start()].strip()}` has no name."
        )
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return {
        m[1]: _value(by_name[m[1]], text[m.end() : end].strip(), names)
        for m, end in zip(marks, ends, strict=True)
    }


def _value(option: dict[str, Any], text: str, names: dict[str, dict[str, int]]) -> object:
    kind = option["type"]
    try:
        if kind == STRING:
            return text
        if kind == INTEGER:
            return int(text)
        if kind == NUMBER:
            return float(text)
        if kind == BOOLEAN:
            return text.lower() in _TRUE
    except ValueError:
        raise CommandError(f"`{option['name']}` takes a number, not `{text}`.") from None
    if kind == CHANNEL:
        return _named(names["channels"], text.removeprefix("#"), option["name"])
    if kind in (ROLE, MENTIONABLE, USER):
        return _named(names["roles"], text.removeprefix("@"), option["name"])
    raise CommandError(f"`{option['name']}` can't be typed here (it needs a file or a picker).")


def _named(known: dict[str, int], name: str, option: str) -> int:
    if name in known:
        return known[name]
    raise CommandError(f"`{option}`: there is no `{name}`; there are {', '.join(sorted(known))}.")
