"""The real discord.py client against the emulator, over real HTTP and WebSocket. Every request
discord.py makes must conform to Discord's OpenAPI spec."""

import asyncio
import io
from collections.abc import Awaitable, Callable

import discord
import pytest
from PIL import Image

from emulator import DiscordEmulator
from tests.emulator.harness import EchoBot, eventually, png, run_scenario

Scenario = Callable[[DiscordEmulator, EchoBot], Awaitable[None]]


@pytest.fixture
def run_bot(point_discord_py: Callable[[DiscordEmulator], None]) -> Callable[[Scenario], None]:
    """Runs a scenario with EchoBot connected, then checks that nothing broke the spec."""
    return lambda scenario: run_scenario(point_discord_py, EchoBot, scenario)


def test_login_identifies_and_gets_the_guild_with_its_channels(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        assert bot.user is not None and bot.user.id == emulator.bot_user_id
        assert bot.application_id == emulator.application_id
        [guild] = bot.guilds
        assert guild.id == emulator.guild_id
        assert sorted(channel.name for channel in guild.text_channels) == ["art", "general"]
        assert emulator.identify_count == 1
        assert [command["name"] for command in emulator.commands(emulator.guild_id)] == [
            "echo",
            "upload",
            "slow",
        ]

    run_bot(scenario)


def test_a_slash_command_answer_is_a_chat_input_message(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        ada = emulator.add_member("ada")
        interaction = await emulator.slash("echo", {"text": "hello", "times": 2}, user_id=ada)
        await interaction.wait_acknowledged()
        assert interaction.response_type == 4
        [message] = emulator.messages(emulator.channel_id("general"))
        assert message["id"] == str(interaction.original_message_id)
        assert message["type"] == 20
        assert message["content"] == "hello hello"
        assert message["author"]["id"] == str(emulator.bot_user_id)
        assert message["webhook_id"] == str(emulator.application_id)
        assert message["interaction_metadata"]["user"]["id"] == str(ada)
        assert message["components"][0]["components"][0]["custom_id"] == "like:0"
        assert not interaction.ephemeral
        with pytest.raises(ValueError, match="times"):
            await emulator.slash("echo", {"text": "x", "times": 9}, user_id=ada)
        with pytest.raises(LookupError, match="never registered a /imagine"):
            await emulator.slash("imagine", {}, user_id=ada)

    run_bot(scenario)


def test_an_ephemeral_answer_is_seen_only_by_the_member(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        ada = emulator.add_member("ada")
        interaction = await emulator.slash("echo", {"text": "psst", "secret": True}, user_id=ada)
        await interaction.wait_acknowledged()
        assert [message["content"] for message in interaction.ephemeral] == ["psst"]
        assert interaction.ephemeral[0]["flags"] & 64
        assert emulator.messages(emulator.channel_id("general")) == []

    run_bot(scenario)


def test_a_click_on_a_dynamic_button_reaches_its_callback(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        ada = emulator.add_member("ada")
        answer = await emulator.slash("echo", {"text": "like me"}, user_id=ada)
        await answer.wait_acknowledged()
        message_id = answer.original_message_id
        assert message_id is not None
        click = await emulator.click(message_id, "like:0", user_id=ada)
        await click.wait_acknowledged()
        assert click.response_type == 7
        updated = emulator.message(message_id)
        assert updated["content"] == "1 likes"
        assert updated["components"][0]["components"][0]["custom_id"] == "like:1"
        assert updated["edited_timestamp"] is not None
        with pytest.raises(LookupError, match="no button 'like:0'"):
            await emulator.click(message_id, "like:0", user_id=ada)

    run_bot(scenario)


def test_a_follow_up_file_is_kept_and_downloads_through_its_url(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        ada = emulator.add_member("ada")
        channel = emulator.channel_id("general")
        interaction = await emulator.slash("upload", user_id=ada)
        await eventually(lambda: interaction.acknowledged_at and interaction.ephemeral)
        thinking, follow_up = emulator.messages(channel)
        assert thinking["content"] == "here it comes" and not thinking["flags"] & 128
        assert follow_up["message_reference"]["message_id"] == str(interaction.original_message_id)
        first, added = follow_up["attachments"]  # the bot added a file to the follow-up, keeping the first
        assert (first["filename"], added["filename"]) == ("grid.png", "notes.txt")
        assert first["data"] == png() and added["data"] == b"notes"
        assert (first["width"], first["height"], first["content_type"]) == (8, 6, "image/png")
        assert added["content_type"] == "text/plain"
        fetched = await bot.get_partial_messageable(channel).fetch_message(int(follow_up["id"]))
        downloaded = await fetched.attachments[0].read()
        assert Image.open(io.BytesIO(downloaded)).size == (8, 6)

    run_bot(scenario)


def test_a_rate_limit_and_a_server_error_are_retried_and_the_message_posted_once(
    run_bot: Callable[[Scenario], None],
):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        channel = emulator.channel_id("art")
        path = rf"/channels/{channel}/messages"
        emulator.fail_next("POST", path, 500)  # discord.py waits 1 s, then 3 s after a second failure
        emulator.fail_next("POST", path, 429, retry_after=0.1)
        await bot.get_partial_messageable(channel).send("persistent")
        assert [m["content"] for m in emulator.messages(channel)] == ["persistent"]
        posts = [r["status"] for r in emulator.requests if r["method"] == "POST" and r["path"] == path]
        assert posts == [500, 429, 200]

    run_bot(scenario)


def test_an_expired_interaction_token_is_refused_with_50027(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        interaction = await emulator.slash("slow", user_id=emulator.add_member("ada"))
        await interaction.wait_acknowledged()
        assert interaction.response_type == 5
        emulator.expire_token(interaction.token)
        bot.go_on.set()
        await eventually(lambda: bot.errors)
        [error] = bot.errors
        assert (error.status, error.code) == (401, 50027)

    run_bot(scenario)


def test_enforce_nonce_returns_the_first_message_instead_of_a_second(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        channel = bot.get_partial_messageable(emulator.channel_id("general"))
        first = await channel.send("once", nonce="job-1")
        again = await channel.send("once", nonce="job-1")
        assert again.id == first.id
        assert len(emulator.messages(channel.id)) == 1

    run_bot(scenario)


def test_allowed_mentions_decide_who_is_pinged(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        ada, role = emulator.add_member("ada"), emulator.add_role("artists", 0)
        channel = bot.get_partial_messageable(emulator.channel_id("general"))
        content = f"@everyone <@&{role}> <@{ada}>"
        only_ada = await channel.send(
            content,
            allowed_mentions=discord.AllowedMentions.none().merge(
                discord.AllowedMentions(users=[discord.Object(ada)])
            ),
        )
        everything = await channel.send(content)
        pinged = emulator.message(only_ada.id)
        assert (pinged["mention_everyone"], pinged["mention_roles"]) == (False, [])
        assert [user["id"] for user in pinged["mentions"]] == [str(ada)]
        pinged = emulator.message(everything.id)
        assert (pinged["mention_everyone"], pinged["mention_roles"]) == (True, [str(role)])

    run_bot(scenario)


def test_reconnect_and_a_dropped_connection_resume_the_session(run_bot: Callable[[Scenario], None]):
    async def scenario(emulator: DiscordEmulator, bot: EchoBot) -> None:
        resumed = asyncio.Event()
        bot.event(_setter("on_resumed", resumed))
        await emulator.reconnect()
        await asyncio.wait_for(resumed.wait(), 3)
        assert (emulator.identify_count, emulator.resume_count) == (1, 1)
        resumed.clear()
        await emulator.drop_connections()
        interaction = await emulator.slash("echo", {"text": "still here"}, user_id=emulator.add_member("ada"))
        await asyncio.wait_for(resumed.wait(), 3)
        await interaction.wait_acknowledged()  # sent while disconnected, replayed on RESUME
        resumed.clear()
        await emulator.invalidate_session(resumable=True)
        await asyncio.wait_for(resumed.wait(), 3)
        assert (emulator.identify_count, emulator.resume_count) == (1, 3)

    run_bot(scenario)


def _setter(name: str, event: asyncio.Event) -> Callable[[], Awaitable[None]]:
    async def handler() -> None:
        event.set()

    handler.__name__ = name
    return handler
