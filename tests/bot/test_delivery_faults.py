"""Every accepted job ends visibly, once, whatever Discord or Redis does meanwhile; every click is
answered. The real bot and worker processes against the emulator and a real Redis."""

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from redis import Redis

from bot.replies import MESSAGE_LIMIT, UNREACHABLE
from bot.requests.buttons import UNKNOWN_BUTTON
from emulator import BackgroundEmulator, DiscordEmulator
from emulator.bodies import Upload as FilePart
from jobs import custom_ids, keys
from playground import stack
from tests.bot.conftest import BotStarter
from tests.bot.test_end_to_end import TIMEOUT, _button, _job_of, _wait_quiet
from tests.helpers import catalog_defaulting_to

pytestmark = pytest.mark.slow


def _failure(discord: BackgroundEmulator, message_id: int) -> dict:
    def failed(emulator: DiscordEmulator) -> dict | None:
        message = emulator.message(message_id)
        return message if "**Could not finish:**" in message["content"] else None

    return discord.wait_for(failed, timeout=TIMEOUT)


def test_a_result_with_a_huge_prompt_still_fits_one_message(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    part = "a lighthouse on a cliff above a stormy sea at night " * 12  # ~620 characters, past 77 tokens
    prompt = " ".join(f"{part}{n}::1" for n in range(1, 6))
    assert len(prompt) > 3000
    discord.slash("imagine", {"prompt": prompt}, user_id=member, channel_id=channel)
    [result] = _wait_quiet(discord, channel, 1)
    assert len(result["content"]) <= MESSAGE_LIMIT
    # The tiny model (SD1.5's CLIP) reads every part whole, in chunks: nothing left out to note.
    # (`tests/bot/test_render.py` fits a result with many notes.)
    assert "-# note" not in result["content"]
    assert result["content"].startswith("**a lighthouse")
    assert result["content"].endswith(f"…** - <@{member}>")


def test_a_result_discord_refuses_becomes_a_failure_the_member_sees(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.fail_next("POST", rf"/channels/{channel}/messages", 403, code=50013)  # Missing Permissions
    interaction = discord.slash("imagine", {"prompt": "a locked door"}, user_id=member, channel_id=channel)
    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)
    failure = _failure(discord, interaction.original_message_id)
    assert "Discord refused the result message" in failure["content"]
    assert _button(failure, "Retry")
    time.sleep(2)  # nothing else follows: the failure is the job's one answer
    assert [message["id"] for message in discord.messages(channel)] == [failure["id"]]


def test_a_click_on_a_button_that_is_not_ours_is_answered(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.slash("imagine", {"prompt": "a kite"}, user_id=member, channel_id=channel)
    [grid] = _wait_quiet(discord, channel, 1)
    forged = [
        "evil:1",  # no template of ours
        custom_ids.upscale("f" * 32, 1),  # ours, but not on the message (a hand-made interaction)
    ]
    for custom_id in forged:
        click = discord.click(int(grid["id"]), custom_id, user_id=member, unlisted=True)
        discord.wait_acknowledged(click)
        assert click.ephemeral[0]["content"] == UNKNOWN_BUTTON
    assert len(discord.messages(channel)) == 1


def test_retry_on_a_job_that_succeeded_does_not_run_it_again(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.slash("imagine", {"prompt": "a red kite"}, user_id=member, channel_id=channel)
    [grid] = _wait_quiet(discord, channel, 1)
    retry = custom_ids.retry(_job_of(grid))

    def post_with_retry_button(emulator: DiscordEmulator) -> int:
        # Another app's message carrying our custom_id: Discord delivers clicks on it to us.
        button = {"type": 2, "style": 2, "label": "Retry", "custom_id": retry}
        request = {"content": "try this", "components": [{"type": 1, "components": [button]}]}
        return emulator._state.messages.create(channel, request, [], author_id=emulator.owner_id).id

    message_id = discord.call(post_with_retry_button)
    click = discord.click(message_id, retry, user_id=member)
    discord.wait_acknowledged(click)
    assert "That job succeeded" in click.ephemeral[0]["content"]
    assert len(discord.messages(channel)) == 2  # the grid and the other app's message: no new job


def test_once_the_token_expired_the_bot_stops_trying_it(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot(progress_interval="1")
    interaction = discord.slash(
        "imagine", {"prompt": "a long night --steps 100"}, user_id=member, channel_id=channel
    )
    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)
    discord.expire_token(interaction.token)
    discord.wait_for(
        lambda emulator: interaction.original_message_id in emulator.deleted, timeout=5 * TIMEOUT
    )
    requests = discord.call(lambda emulator: list(emulator.requests))
    refused = [r for r in requests if r["path"].startswith("/webhooks/") and r["status"] == 401]
    edits = [r for r in requests if r["method"] == "PATCH" and r["path"].startswith("/channels/")]
    assert len(edits) >= 2, "the job was too quick to test this: give it more steps"
    assert len(refused) == 1


def test_the_bot_rides_out_a_redis_restart(
    discord: BackgroundEmulator, make_redis, model_cache: Path, tmp_path: Path, channel: int, member: int
):
    server = make_redis()
    catalog = str(catalog_defaulting_to("tiny", tmp_path))
    worker = stack.start_worker(server.url, model_cache, tmp_path / "worker.log", catalog=catalog)
    bot = stack.start_bot(discord, server.url, tmp_path / "bot.log", catalog=catalog)
    try:
        discord.slash("imagine", {"prompt": "before the storm"}, user_id=member, channel_id=channel)
        _wait_quiet(discord, channel, 1)

        server.stop()
        during = discord.slash("imagine", {"prompt": "during the storm"}, user_id=member, channel_id=channel)
        discord.wait_acknowledged(during)
        assert during.ephemeral[0]["content"] == UNREACHABLE
        server.start()

        after = discord.slash("imagine", {"prompt": "after the storm"}, user_id=member, channel_id=channel)
        discord.wait_acknowledged(after)
        messages = _wait_quiet(discord, channel, 2)
        assert messages[1]["content"] == f"**after the storm** - <@{member}>"
        assert bot.popen.poll() is None, f"the bot exited:\n{bot.output()[-3000:]}"
        assert worker.popen.poll() is None, f"the worker exited:\n{worker.output()[-3000:]}"
        assert Redis.from_url(server.url).ping()
    finally:
        bot.stop()
        worker.stop()


def test_an_expired_image_whose_copy_is_a_decompression_bomb_is_refused_with_a_reason(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    start_bot()
    discord.slash("imagine", {"prompt": "a quiet harbour"}, user_id=member, channel_id=channel)
    [grid] = _wait_quiet(discord, channel, 1)
    redis = Redis.from_url(stack_url)
    redis.delete(*redis.keys(keys.artifact_key(_job_of(grid), "*")))  # expired: the copy is read
    bomb = io.BytesIO()
    Image.new("1", (15_000, 15_000)).save(bomb, "PNG")  # 225 M pixels in a few KB
    upscale = _button(grid, "U1")

    def post_with_bomb(emulator: DiscordEmulator) -> int:
        # Another app's message carrying our button and a hostile "grid".
        button = {"type": 2, "style": 2, "label": "U1", "custom_id": upscale}
        request = {
            "content": "a copy",
            "components": [{"type": 1, "components": [button]}],
            "attachments": [{"id": 0, "filename": "grid.png"}],
        }
        uploads = [FilePart(0, "grid.png", bomb.getvalue())]
        return emulator._state.messages.create(channel, request, uploads, author_id=emulator.owner_id).id

    click = discord.click(discord.call(post_with_bomb), upscale, user_id=member)
    discord.wait_acknowledged(click)
    assert "the copy here is unreadable" in click.ephemeral[0]["content"]
    assert len(discord.messages(channel)) == 2  # no job was started
