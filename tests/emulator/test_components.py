"""Select menus and modals the bot sends: Discord's spec and the rules beyond it, at the wire."""

import asyncio
from typing import Any

import aiohttp
import pytest

from emulator import DiscordEmulator
from emulator.components import check_message_components, check_modal
from emulator.responses import DiscordError
from tests.emulator.harness import emulated


def _select(**fields: Any) -> dict[str, Any]:
    options = [{"label": f"cell {n}", "value": str(n)} for n in range(1, 10)]
    return {"type": 3, "custom_id": "region:1", "options": options, **fields}


def _text(**fields: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": "prompt", "style": 1, "label": "Prompt", **fields}


def _modal(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"custom_id": "edit:1", "title": "Edit", "components": list(components), **fields}


def _row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


BUTTON = {"type": 2, "style": 1, "label": "U1", "custom_id": "u:1"}


@pytest.mark.parametrize(
    ("components", "reason"),
    [
        ([_row(_select(), BUTTON)], "alone in its action row"),
        ([_row(_select(min_values=4, max_values=3))], "min_values 4 is over max_values 3"),
        ([_row(_select(max_values=10))], "over the number of options"),
        ([_row(_select(options=[{"label": "a", "value": "1"}] * 2))], "option values must be unique"),
        ([_row(BUTTON), _row(BUTTON)], "'u:1' is used twice"),
    ],
)
def test_discord_refuses_these_message_components(components: list, reason: str):
    with pytest.raises(DiscordError, match="50035") as refused:
        check_message_components(components)
    assert reason in refused.value.detail


@pytest.mark.parametrize(
    ("modal", "reason"),
    [
        (_modal(*[_row(_text(custom_id=f"t{n}")) for n in range(6)]), "5 or fewer"),
        (_modal(_row(_text(), _text(custom_id="seed"))), "holds one text input"),
        (_modal(_row(_text(label=None))), "needs a label"),
        (_modal(_row(_text(min_length=5, max_length=4))), "min_length 5 is over max_length 4"),
        (_modal(_row(_text(value="abc", max_length=2))), "over max_length 2"),
        (_modal(_row(_text()), {"type": 18, "label": "P", "component": _text()}), "used twice"),
    ],
)
def test_discord_refuses_these_modals(modal: dict, reason: str):
    with pytest.raises(DiscordError, match="50035") as refused:
        check_modal(modal)
    assert reason in refused.value.detail


def test_select_menus_and_modals_are_checked_against_the_spec_and_the_rules_at_the_wire():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        url = f"{emulator.api_base}/channels/{emulator.channel_id('general')}/messages"
        headers = {"Authorization": f"Bot {emulator.token}"}
        long_options = [{"label": "x" * 101, "value": "1"}]
        for components in (
            [_row(_select(placeholder="p" * 151))],
            [_row(_select(options=long_options))],
            [_row(_select(max_values=26))],
            [_row(_select(), BUTTON)],
        ):
            async with session.post(url, json={"components": components}, headers=headers) as response:
                assert response.status == 400
        async with session.post(
            url, json={"components": [_row(_select(max_values=9))]}, headers=headers
        ) as ok:
            assert ok.status == 200

        commands = f"{emulator.api_base}/applications/{emulator.application_id}/commands"
        command = {"name": "edit", "description": "Edits"}
        async with session.put(commands, json=[command], headers=headers) as response:
            assert response.status == 200
        opener = await emulator.slash("edit", user_id=emulator.add_member("ada"))
        callback = f"{emulator.api_base}/interactions/{opener.id}/{opener.token}/callback"
        text_rows = [_row(_text(custom_id=f"t{n}")) for n in range(6)]
        for modal, status in [
            (_modal(_row(_text()), title="t" * 46), 400),
            (_modal(*text_rows), 400),
            (_modal(_row(_text())), 204),
            (_modal(_row(_text())), 400),  # one answer per interaction (40060)
        ]:
            async with session.post(callback, json={"type": 9, "data": modal}) as response:
                assert response.status == status
        assert opener.modal == _modal(_row(_text()))

        found = [violation.message for violation in emulator.violations]
        assert found == [
            f"components.0.components.0.placeholder: '{'p' * 151}' is too long",
            f"components.0.components.0.options.0.label: '{'x' * 101}' is too long",
            "components.0.components.0.max_values: 26 is greater than the maximum of 25",
            "components.0.components: a select menu must be alone in its action row",
            f"data.title: '{'t' * 46}' is too long",
            "data.components: Must be 5 or fewer in length.",
        ]

    async def main() -> None:
        async with emulated() as emulator, aiohttp.ClientSession() as session:
            await check(emulator, session)

    asyncio.run(main())
