"""`BackgroundEmulator` from plain sync code, as the bot's end-to-end tests use it."""

import json
import urllib.request

import pytest

from emulator import BackgroundEmulator


def test_sync_calls_run_on_the_emulators_loop_and_wait_for_explains_a_timeout():
    with BackgroundEmulator() as discord:
        general = discord.call(lambda emulator: emulator.channel_id("general"))
        request = urllib.request.Request(
            f"{discord.api_base}/channels/{general}/messages",
            data=json.dumps({"content": "from a thread"}).encode(),
            headers={"Authorization": f"Bot {discord.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            posted = json.load(response)
        found = discord.wait_for(lambda emulator: emulator.messages(general), timeout=2)
        assert [message["id"] for message in found] == [posted["id"]]
        assert discord.message(int(posted["id"]))["content"] == "from a thread"
        with pytest.raises(TimeoutError, match=r"emulator\.deleted"):
            discord.wait_for(lambda emulator: emulator.deleted, timeout=0.1)
        with pytest.raises(TimeoutError, match="there is no message 1"):  # a LookupError means "not yet"
            discord.wait_for(lambda emulator: emulator.message(1), timeout=0.1)
        assert discord.violations == []
    assert discord.gateway_url.startswith("ws://127.0.0.1:")


def test_channels_and_dms_from_sync_code():
    with BackgroundEmulator() as discord:
        news = discord.add_channel("news", nsfw=True)
        assert discord.call(lambda emulator: emulator.channel_id("news")) == news
        ada = discord.call(lambda emulator: emulator.add_member("ada"))
        assert discord.dm_channel_id(ada) is None
        dm = discord.open_dm(ada)
        assert discord.dm_channel_id(ada) == dm and discord.messages(dm) == []
