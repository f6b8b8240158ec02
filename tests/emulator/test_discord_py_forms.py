"""The real discord.py against the emulator with modals and string selects: a persistent button opens a
modal (legacy action rows), a command opens one built of labels, a select picks grid cells; and what
Discord's client or API would refuse."""

from collections.abc import Awaitable, Callable

import pytest

from emulator import DiscordEmulator
from tests.emulator.forms import FormBot
from tests.emulator.harness import run_scenario

Scenario = Callable[[DiscordEmulator, FormBot], Awaitable[None]]


@pytest.fixture
def run_bot(point_discord_py: Callable[[DiscordEmulator], None]) -> Callable[[Scenario], None]:
    return lambda scenario: run_scenario(point_discord_py, FormBot, scenario)


async def _job_message(emulator: DiscordEmulator, member: int) -> int:
    posted = await emulator.slash("job", user_id=member)
    await posted.wait_acknowledged()
    assert posted.original_message_id is not None
    return posted.original_message_id


def test_a_button_opens_a_modal_whose_submit_edits_the_message(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: FormBot) -> None:
        ada, grace = emulator.add_member("ada"), emulator.add_member("grace")
        message_id = await _job_message(emulator, ada)
        opener = await emulator.click(message_id, "edit:7", user_id=ada)
        await opener.wait_acknowledged()
        assert opener.response_type == 9 and opener.modal is not None
        rows = opener.modal["components"]
        assert [row["type"] for row in rows] == [1, 1]  # discord.py's TextInput: legacy action rows
        prompt = rows[0]["components"][0]
        assert (prompt["type"], prompt["custom_id"], prompt["style"], prompt["value"]) == (
            4,
            "prompt",
            2,
            "a cat",
        )

        with pytest.raises(PermissionError, match="opened for user"):
            await emulator.submit_modal(opener, {"prompt": "mine"}, user_id=grace)
        with pytest.raises(LookupError, match="no input 'size'"):
            await emulator.submit_modal(opener, {"size": "9"})
        with pytest.raises(ValueError, match="'prompt' is required"):
            await emulator.submit_modal(opener, {"prompt": ""})
        with pytest.raises(ValueError, match="to 20 characters, not 21"):
            await emulator.submit_modal(opener, {"prompt": "x" * 21})

        submitted = await emulator.submit_modal(opener, {"seed": "42"})  # the prompt stays prefilled
        await submitted.wait_acknowledged()
        assert submitted.response_type == 7
        assert emulator.message(message_id)["content"] == "prompt=a cat seed=42"
        with pytest.raises(ValueError, match="already submitted"):
            await emulator.submit_modal(opener, {"seed": "1"})

    run_bot(scenario)


def test_a_label_modal_from_a_command_is_answered_and_no_modal_answers_a_modal(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: FormBot) -> None:
        ada = emulator.add_member("ada")
        opener = await emulator.slash("note", user_id=ada)
        await opener.wait_acknowledged()
        assert opener.modal is not None
        assert opener.modal["components"][0]["type"] == 18  # discord.ui.Label
        with pytest.raises(ValueError, match="2 to 4000 characters, not 1"):
            await emulator.submit_modal(opener, {"note": "x"})
        submitted = await emulator.submit_modal(opener, {"note": "hello"})
        await submitted.wait_acknowledged()
        assert submitted.original_message_id is not None
        assert emulator.message(submitted.original_message_id)["content"] == "noted: hello"
        assert [error.status for error in bot.errors] == [400]  # a MODAL answer to a modal submit
        assert [violation.message for violation in emulator.violations] == [
            "type: callback type 9 is not a valid answer to a modal interaction"
        ]
        emulator.violations.clear()

    run_bot(scenario)


def test_a_select_sends_the_chosen_cells_and_refuses_what_the_client_would_not_offer(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: FormBot) -> None:
        ada = emulator.add_member("ada")
        message_id = await _job_message(emulator, ada)
        summary = emulator.summaries(emulator.channel_id("general"))[-1]
        assert summary["selects"][0]["options"] == [str(n) for n in range(1, 10)]
        chose = await emulator.choose(message_id, "region:7", ["1", "5", "9"], user_id=ada)
        await chose.wait_acknowledged()
        assert chose.original_message_id is not None
        assert emulator.message(chose.original_message_id)["content"] == "job 7: vary 1,5,9"
        for values, reason in [
            ([], "1 to 9 values, not 0"),
            (["10"], "no option '10'"),
            (["1", "1"], "once"),
        ]:
            with pytest.raises(ValueError, match=reason):
                await emulator.choose(message_id, "region:7", values, user_id=ada)
        with pytest.raises(LookupError, match="no string select 'edit:7'"):
            await emulator.choose(message_id, "edit:7", ["1"], user_id=ada)
        with pytest.raises(LookupError, match="no button 'region:7'"):
            await emulator.click(message_id, "region:7", user_id=ada)
        with pytest.raises(LookupError, match="opened no modal"):
            await emulator.submit_modal(chose, {})

    run_bot(scenario)
