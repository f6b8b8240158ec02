"""/imagine and its buttons, end to end: the real bot process, the real discord.py client over
HTTP and WebSocket to the Discord emulator, a real Redis, and a real worker with the tiny model
(and the shapes model, for the test that reads what the pictures show)."""

import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from redis import Redis

from bot.delivery.deliveries import DeliveryBook
from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator, DiscordEmulator
from jobs import custom_ids, keys
from playground.stack import Process
from tests.bot.conftest import BotStarter, run_worker
from tests.helpers import grid_readings, matching, wait_for
from training.shapes.measure import read

pytestmark = pytest.mark.slow

TIMEOUT = 90.0


def _results(emulator: DiscordEmulator, channel: int) -> list[dict]:
    """Messages carrying an image and buttons: results, not waiting messages."""
    return [
        message for message in emulator.messages(channel) if message["attachments"] and message["components"]
    ]


def _wait_results(discord: BackgroundEmulator, channel: int, count: int) -> list[dict]:
    """The channel's first `count` results, once there are that many."""

    def ready(emulator: DiscordEmulator) -> list[dict] | None:
        found = _results(emulator, channel)
        return found[:count] if len(found) >= count else None

    return discord.wait_for(ready, timeout=TIMEOUT)


def _wait_quiet(discord: BackgroundEmulator, channel: int, count: int) -> list[dict]:
    """The channel once it shows exactly `count` messages, all of them results."""

    def settled(emulator: DiscordEmulator) -> list[dict] | None:
        messages = emulator.messages(channel)
        done = len(messages) == count and len(_results(emulator, channel)) == count
        return messages if done else None

    return discord.wait_for(settled, timeout=TIMEOUT)


def _buttons(message: dict) -> list[list[dict]]:
    return [row["components"] for row in message["components"]]


def _button(message: dict, label: str) -> str:
    for row in _buttons(message):
        for button in row:
            if button.get("label") == label or button.get("emoji", {}).get("name") == label:
                return button["custom_id"]
    raise AssertionError(f"no {label} button in {_buttons(message)}")


def _image(message: dict) -> Image.Image:
    return Image.open(io.BytesIO(message["attachments"][0]["data"]))


def _job_of(message: dict) -> str:
    return re.fullmatch(custom_ids.UPSCALE, _button(message, "U1"))["job"]


@pytest.fixture(scope="module")
def worker(
    stack_redis: LocalRedis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    yield from run_worker(stack_redis, model_cache, tmp_path_factory, models="tiny,shapes")


def test_imagine_answers_at_once_then_posts_one_grid_with_nine_buttons(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    interaction = discord.slash(
        "imagine", {"prompt": "a red fox --ar 3:2 --seed 7"}, user_id=member, channel_id=channel
    )
    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)
    assert interaction.acknowledged_at - interaction.created_at < 3
    waiting = discord.message(interaction.original_message_id)
    assert waiting["content"].startswith(f"**a red fox --ar 3:2 --seed 7** - <@{member}> (")

    [result] = _wait_quiet(discord, channel, 1)
    assert result["content"] == f"**a red fox --ar 3:2 --seed 7** - <@{member}>"
    assert [user["id"] for user in result["mentions"]] == [str(member)]
    rows = _buttons(result)
    assert [button["label"] for button in rows[0]] == ["U1", "U2", "U3", "U4"]
    assert [button.get("label") for button in rows[1]] == ["V1", "V2", "V3", "V4", None]
    assert rows[1][4]["emoji"]["name"] == "🔄"
    grid = _image(result)
    assert grid.format == "PNG"
    assert grid.width > grid.height  # 3:2
    assert interaction.original_message_id in discord.call(lambda emulator: emulator.deleted)


def test_the_pictures_posted_show_what_the_prompt_asked_for(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    prompt = "a red circle on a blue background --model shapes --seed 3"
    discord.slash("imagine", {"prompt": prompt}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    asked = {"colour": "red", "shape": "circle", "background": "blue"}
    readings = grid_readings(grid["attachments"][0]["data"])
    assert matching(readings, **asked) >= 3
    chosen = next(index for index, seen in enumerate(readings, 1) if matching([seen], **asked))

    discord.click(int(grid["id"]), _button(grid, f"U{chosen}"), user_id=member)
    discord.click(int(grid["id"]), _button(grid, f"V{chosen}"), user_id=member)
    [_, first, second] = _wait_quiet(discord, channel, 3)
    [upscaled] = [message for message in (first, second) if f"Image #{chosen}" in message["content"]]
    [varied] = [message for message in (first, second) if "Variations" in message["content"]]
    assert matching([read(_image(upscaled))], **asked) == 1
    assert matching(grid_readings(varied["attachments"][0]["data"]), **asked) >= 3


def test_u2_posts_image_two_at_twice_the_size_with_its_own_buttons(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.slash("imagine", {"prompt": "a lighthouse --seed 3"}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    discord.click(int(grid["id"]), _button(grid, "U2"), user_id=member)

    [_, upscaled] = _wait_quiet(discord, channel, 2)
    assert upscaled["content"] == f"**a lighthouse --seed 3** - Image #2 <@{member}>"
    image, tiles = _image(upscaled), _image(grid)
    assert image.size == (tiles.width, tiles.height)  # one tile at 2×
    rows = _buttons(upscaled)
    assert [button["label"] for button in rows[0]] == ["Vary (Subtle)", "Vary (Strong)", "Vary (Region)"]
    assert rows[-1][0]["label"] == "Grid" and rows[-1][0]["url"].endswith(f"/{channel}/{grid['id']}")


def test_v3_and_reroll_post_new_grids(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.slash("imagine", {"prompt": "a harbour at dawn"}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    discord.click(int(grid["id"]), _button(grid, "V3"), user_id=member)
    discord.click(int(grid["id"]), _button(grid, "🔄"), user_id=member)

    messages = _wait_quiet(discord, channel, 3)
    contents = sorted(message["content"] for message in messages[1:])
    assert contents == [
        f"**a harbour at dawn** - <@{member}>",
        f"**a harbour at dawn** - Variations (Subtle) by <@{member}>",
    ]
    assert all(len(_buttons(message)) == 2 for message in messages)
    assert len({_job_of(message) for message in messages}) == 3


def test_a_click_is_a_job_of_the_member_who_clicked_and_a_double_click_starts_one(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    other = discord.call(lambda emulator: emulator.add_member("grace"))
    discord.slash("imagine", {"prompt": "a red kite"}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    first = discord.click(int(grid["id"]), _button(grid, "U1"), user_id=other)
    second = discord.click(int(grid["id"]), _button(grid, "U1"), user_id=other)

    [_, upscaled] = _wait_quiet(discord, channel, 2)
    assert upscaled["content"].endswith(f"Image #1 <@{other}>")
    # The bot handles the two clicks side by side: either may be the one that starts the job.
    [started] = [click for click in (first, second) if not click.ephemeral]
    [repeated] = [click for click in (first, second) if click is not started]
    assert "Already on it" in repeated.ephemeral[0]["content"]


def test_buttons_work_after_the_bot_restarts(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    bot = start_bot()
    discord.slash("imagine", {"prompt": "a snowy owl"}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    bot.kill()
    start_bot()
    discord.click(int(grid["id"]), _button(grid, "U4"), user_id=member)
    [_, upscaled] = _wait_quiet(discord, channel, 2)
    assert "Image #4" in upscaled["content"]


def test_a_bot_restarted_while_a_job_runs_still_delivers_it_once(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    bot = start_bot()
    interaction = discord.slash(
        "imagine", {"prompt": "a night market --q 2"}, user_id=member, channel_id=channel
    )
    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)
    bot.kill()
    redis = Redis.from_url(stack_url)
    book = DeliveryBook(redis, ttl=60)
    [job] = [
        key.decode().rsplit(":", 1)[1]
        for key in redis.scan_iter(f"{keys.PREFIX}:delivery:*")
        if book.get(key.decode().rsplit(":", 1)[1]).title == "a night market --q 2"
    ]
    wait_for(redis, job, "done", timeout=TIMEOUT)  # the job finished while no bot ran
    start_bot()
    [result] = _wait_quiet(discord, channel, 1)
    assert result["content"] == f"**a night market --q 2** - <@{member}>"


@pytest.mark.parametrize("status", [429, 502])
def test_a_rate_limited_or_failed_result_post_is_retried_and_posted_once(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, status: int
):
    start_bot()
    discord.fail_next("POST", rf"/channels/{channel}/messages", status, retry_after=0.5)
    discord.slash("imagine", {"prompt": "a paper boat"}, user_id=member, channel_id=channel)
    _wait_quiet(discord, channel, 1)
    posts = [
        r
        for r in discord.call(lambda emulator: list(emulator.requests))
        if r["method"] == "POST" and r["path"].endswith(f"/channels/{channel}/messages")
    ]
    assert [r["status"] for r in posts] == [status, 200]


def test_a_job_past_the_interaction_window_is_edited_and_delivered_with_the_bot_token(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    interaction = discord.slash(
        "imagine", {"prompt": "a slow river --q 2"}, user_id=member, channel_id=channel
    )
    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)
    discord.expire_token(interaction.token)
    [result] = _wait_quiet(discord, channel, 1)
    assert result["content"] == f"**a slow river --q 2** - <@{member}>"
    assert interaction.original_message_id in discord.call(lambda emulator: emulator.deleted)
    requests = discord.call(lambda emulator: list(emulator.requests))
    assert any(
        r["method"] == "DELETE"
        and r["path"].endswith(f"/channels/{channel}/messages/{interaction.original_message_id}")
        for r in requests
    )


def test_a_bad_prompt_is_explained_to_the_member_alone_and_nothing_is_queued(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    start_bot()
    before = Redis.from_url(stack_url).xlen(keys.EVENTS_STREAM)
    interaction = discord.slash("imagine", {"prompt": "a fox --ar 30:1"}, user_id=member, channel_id=channel)
    discord.wait_for(lambda emulator: interaction.ephemeral, timeout=10)
    assert "--ar" in interaction.ephemeral[0]["content"]
    assert discord.messages(channel) == []
    assert Redis.from_url(stack_url).xlen(keys.EVENTS_STREAM) == before


def test_a_failed_job_says_why_and_its_retry_button_runs_it_again(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    bot = start_bot(job_timeout="1", job_retries="0")
    interaction = discord.slash(
        "imagine", {"prompt": "an endless maze --steps 150"}, user_id=member, channel_id=channel
    )

    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)

    def failed(emulator: DiscordEmulator) -> dict | None:
        message = emulator.message(interaction.original_message_id)
        return message if "Could not finish" in message["content"] else None

    message = discord.wait_for(failed, timeout=TIMEOUT)
    assert "took longer than 1 seconds" in message["content"]
    bot.stop()
    start_bot()  # an operator raised the time limit
    discord.click(int(message["id"]), _button(message, "Retry"), user_id=member)
    results = _wait_results(discord, channel, 1)
    assert results[0]["content"] == f"**an endless maze --steps 150** - <@{member}>"


def test_twenty_prompts_from_five_members_are_each_answered_once(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int
):
    start_bot()
    members = [discord.call(lambda emulator, n=n: emulator.add_member(f"member{n}")) for n in range(5)]
    interactions = [
        discord.slash(
            "imagine", {"prompt": f"lantern {n} --seed {n}"}, user_id=members[n % 5], channel_id=channel
        )
        for n in range(20)
    ]
    messages = _wait_quiet(discord, channel, 20)
    assert sorted(message["content"] for message in messages) == sorted(
        f"**lantern {n} --seed {n}** - <@{members[n % 5]}>" for n in range(20)
    )
    assert all(interaction.response_type == 4 and not interaction.ephemeral for interaction in interactions)


def test_every_job_of_a_permutation_prompt_with_repeats_is_answered_once(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    prompt = "a {red, blue} kite --r 2 --steps 1"
    interaction = discord.slash("imagine", {"prompt": prompt}, user_id=member, channel_id=channel)
    messages = _wait_quiet(discord, channel, 4)  # each waiting message gave way to its result
    assert sorted(message["content"] for message in messages) == sorted(
        f"**a {colour} kite --r 2 --steps 1** - <@{member}>" for colour in ("red", "red", "blue", "blue")
    )
    assert len(interaction.message_ids) == 4
    assert set(interaction.message_ids) <= set(discord.call(lambda emulator: emulator.deleted))


def test_a_prompt_with_everyone_and_role_mentions_pings_only_the_requester(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    role = discord.call(lambda emulator: emulator.add_role("artists", 0))
    prompt = f"@everyone @here <@&{role}> look at this"
    interaction = discord.slash("imagine", {"prompt": prompt}, user_id=member, channel_id=channel)
    discord.wait_for(lambda emulator: interaction.acknowledged_at, timeout=10)
    waiting = discord.message(interaction.original_message_id)
    [result] = _wait_quiet(discord, channel, 1)
    for message in (waiting, result):
        assert message["mention_everyone"] is False
        assert message["mention_roles"] == []
        assert [user["id"] for user in message["mentions"]] == [str(member)]


def test_an_expired_image_is_taken_from_the_grid_on_the_message(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    start_bot()
    discord.slash("imagine", {"prompt": "a tide pool --seed 11"}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    redis = Redis.from_url(stack_url)
    job = _job_of(grid)
    redis.delete(*redis.keys(keys.artifact_key(job, "*")))
    discord.click(int(grid["id"]), _button(grid, "V2"), user_id=member)
    [_, varied] = _wait_quiet(discord, channel, 2)
    assert "Variations" in varied["content"]
    assert redis.exists(keys.artifact_key(job, "image-2"))


def test_a_result_over_the_upload_limit_is_re_encoded_to_fit(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.slash(
        "imagine", {"prompt": "static noise"}, user_id=member, channel_id=channel, attachment_size_limit=6000
    )
    [result] = _wait_quiet(discord, channel, 1)
    assert result["attachments"][0]["size"] <= 6000
    assert _image(result).format in {"WEBP", "PNG"}


def test_info_shows_the_queue_the_members_jobs_and_the_workers(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    interaction = discord.slash("info", {}, user_id=member, channel_id=channel)
    discord.wait_for(lambda emulator: interaction.ephemeral, timeout=10)
    text = interaction.ephemeral[0]["content"]
    assert "**Queue:**" in text
    assert "**Workers online:** 1" in text
    assert "**Your jobs:** none" in text
    assert "**Your limits here:** 3 running · 10 waiting · no hourly limit" in text


def test_progress_edits_show_a_preview_and_are_at_least_the_interval_apart(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    interaction = discord.slash(
        "imagine", {"prompt": "a long road --steps 150"}, user_id=member, channel_id=channel
    )
    _wait_quiet(discord, channel, 1)
    edits = [
        r
        for r in discord.call(lambda emulator: list(emulator.requests))
        if r["method"] == "PATCH" and interaction.token in r["path"] and r["status"] == 200
    ]
    assert len(edits) >= 2
    assert any(r["files"] == ["preview.jpg"] for r in edits)
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(edits)]
    assert min(gaps) >= 1.5 - 0.05


def test_the_bot_resumes_after_losing_the_gateway_and_still_answers(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    resumes = discord.call(lambda emulator: emulator.resume_count)
    discord.drop_connections()
    discord.wait_for(lambda emulator: emulator.resume_count > resumes, timeout=30)
    discord.slash("imagine", {"prompt": "a bridge in fog"}, user_id=member, channel_id=channel)
    [result] = _wait_quiet(discord, channel, 1)
    assert result["content"] == f"**a bridge in fog** - <@{member}>"


def test_a_member_who_prefers_dms_gets_results_there_and_their_buttons_work(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    hermit = discord.call(lambda emulator: emulator.add_member("hermit", accepts_dms=False))
    for user in (member, hermit):
        chosen = discord.slash("settings", {"posting": "dm"}, user_id=user)
        discord.wait_for(lambda emulator, chosen=chosen: chosen.ephemeral, timeout=10)
    interaction = discord.slash("imagine", {"prompt": "a lighthouse"}, user_id=member, channel_id=channel)
    discord.wait_for(lambda emulator: interaction.ephemeral, timeout=10)
    # The waiting message (a live object, edited as the job runs) is for the member alone.
    assert interaction.ephemeral[0]["content"].startswith(f"**a lighthouse** - <@{member}> (")
    dm = discord.wait_for(lambda emulator: emulator.dm_channel_id(member), timeout=TIMEOUT)
    [grid] = _wait_results(discord, dm, 1)
    assert grid["content"] == f"**a lighthouse** - <@{member}>"
    assert discord.messages(channel) == []

    discord.click(int(grid["id"]), _button(grid, "U3"), user_id=member)
    upscaled = _wait_results(discord, dm, 2)[1]
    assert upscaled["content"] == f"**a lighthouse** - Image #3 <@{member}>"

    discord.slash("imagine", {"prompt": "a cave"}, user_id=hermit, channel_id=channel)
    [public] = _wait_quiet(discord, channel, 1)  # the only message in the channel
    assert public["content"].startswith(f"**a cave** - <@{hermit}>\n-# Your DMs are closed to me")
