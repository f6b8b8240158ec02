"""Typed commands read against registered command definitions, as Discord's client fills them in."""

import pytest

from playground.commands import CommandError, read_command

COMMANDS = [
    {"name": "imagine", "type": 1, "options": [{"name": "prompt", "type": 3, "required": True}]},
    {"name": "info", "type": 1},
    {
        "name": "admin",
        "type": 1,
        "options": [
            {"name": "show", "type": 1},
            {
                "name": "limits",
                "type": 2,
                "options": [
                    {
                        "name": "set",
                        "type": 1,
                        "options": [{"name": "waiting", "type": 4}, {"name": "hourly", "type": 4}],
                    }
                ],
            },
            {
                "name": "channels",
                "type": 2,
                "options": [{"name": "deny", "type": 1, "options": [{"name": "channel", "type": 7}]}],
            },
            {
                "name": "roles",
                "type": 2,
                "options": [{"name": "allow", "type": 1, "options": [{"name": "role", "type": 8}]}],
            },
        ],
    },
]
NAMES = {"channels": {"art": 11}, "roles": {"artists": 22}}


@pytest.mark.parametrize(
    ("text", "name", "options"),
    [
        ("imagine a fox: in the snow --ar 3:2", "imagine", {"prompt": "a fox: in the snow --ar 3:2"}),
        ("/info", "info", {}),
        ("admin show", "admin show", {}),
        ("admin limits set waiting: 3 hourly: 20", "admin limits set", {"waiting": 3, "hourly": 20}),
        ("admin channels deny channel: #art", "admin channels deny", {"channel": 11}),
        ("admin roles allow role: @artists", "admin roles allow", {"role": 22}),
        ("admin channels deny", "admin channels deny", {}),
    ],
)
def test_commands_are_read_with_their_options(text: str, name: str, options: dict) -> None:
    typed = read_command(text, COMMANDS, NAMES)
    assert (typed.name, typed.options) == (name, options)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("imagin a fox", "There is no /imagin here. Try /admin, /imagine, /info."),
        ("admin", "Say which one: /admin show, /admin limits, /admin channels, /admin roles."),
        ("admin limits set waiting: many", "`waiting` takes a number, not `many`."),
        ("admin channels deny channel: #nowhere", "there is no `nowhere`; there are art."),
        ("admin limits set 3 hourly: 2", "`3` has no name"),
    ],
)
def test_what_cannot_be_read_is_explained(text: str, reason: str) -> None:
    with pytest.raises(CommandError) as error:
        read_command(text, COMMANDS, NAMES)
    assert reason in str(error.value)
