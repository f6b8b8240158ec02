"""The server's NSFW policy, end to end: a worker whose model's own safety checker flags every
image, the real bot, and the Discord emulator with a normal and an age-restricted channel."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator
from playground.stack import Process
from tests.bot.conftest import BotStarter, run_worker
from tests.bot.test_end_to_end import TIMEOUT, _wait_results

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def flagging_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models.tiny.checkers import save_tiny_catalog  # imports torch

    return save_tiny_catalog(tmp_path_factory.mktemp("flagging"), safety="flag-all")


@pytest.fixture(scope="module")
def worker(
    stack_redis: LocalRedis,
    model_cache: Path,
    flagging_catalog: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Process]:
    yield from run_worker(stack_redis, model_cache, tmp_path_factory, catalog=str(flagging_catalog))


@pytest.fixture
def bot(start_bot: BotStarter, flagging_catalog: Path) -> None:
    start_bot(catalog=str(flagging_catalog))


def _grid(message: dict) -> Image.Image:
    return Image.open(io.BytesIO(message["attachments"][0]["data"]))


def _disabled(message: dict) -> dict[str, bool]:
    buttons = [button for row in message["components"] for button in row["components"]]
    return {b.get("label") or b["emoji"]["name"]: bool(b.get("disabled")) for b in buttons}


def test_a_normal_channel_blocks_flagged_images_and_their_buttons(
    discord: BackgroundEmulator, bot: None, member: int
):
    channel = discord.call(lambda emulator: emulator.channel_id("general"))
    interaction = discord.slash(
        "imagine", {"prompt": "a beach --steps 8"}, user_id=member, channel_id=channel
    )
    [result] = _wait_results(discord, channel, 1)
    assert result["content"].endswith(
        "-# note: images #1, #2, #3 and #4 blocked by this server's NSFW filter"
    )
    assert _disabled(result) == {**{f"{a}{n}": True for a in "UV" for n in range(1, 5)}, "🔄": False}
    colours = _grid(result).convert("RGB").getcolors()
    assert colours is not None and len(colours) <= 2  # flat stand-ins (and the grid's gutter)
    previews = [
        r
        for r in discord.call(lambda emulator: list(emulator.requests))
        if interaction.token in r["path"] and r["method"] == "PATCH" and r["files"]
    ]
    assert previews == []


def test_an_age_restricted_channel_is_not_checked(discord: BackgroundEmulator, bot: None, member: int):
    channel = discord.add_channel("after-dark", nsfw=True)
    discord.slash("imagine", {"prompt": "a beach"}, user_id=member, channel_id=channel)
    [result] = _wait_results(discord, channel, 1)
    assert result["content"] == f"**a beach** - <@{member}>"
    assert not any(_disabled(result).values())
    assert _grid(result).convert("RGB").getcolors() is None  # more colours than a flat fill


def test_the_spoiler_policy_posts_flagged_results_as_spoilers(
    discord: BackgroundEmulator, bot: None, member: int
):
    owner = discord.call(lambda emulator: emulator.owner_id)
    channel = discord.call(lambda emulator: emulator.channel_id("general"))
    answer = discord.slash("admin moderation nsfw", {"policy": "spoiler"}, user_id=owner)
    discord.wait_for(lambda emulator: answer.ephemeral, timeout=TIMEOUT)
    discord.slash("imagine", {"prompt": "a beach"}, user_id=member, channel_id=channel)
    [result] = _wait_results(discord, channel, 1)
    assert result["attachments"][0]["filename"].startswith("SPOILER_imagine_a_beach_")
    assert "marked as a spoiler" in result["content"]
    assert not any(_disabled(result).values())


def test_an_image_the_member_gives_goes_through_the_servers_policy_too(
    discord: BackgroundEmulator, bot: None, member: int
):
    from emulator import Upload

    upload = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 90)).save(upload, format="PNG")
    channel = discord.call(lambda emulator: emulator.channel_id("general"))
    discord.slash(
        "imagine",
        {"prompt": "a beach", "image": Upload("beach.png", upload.getvalue())},
        user_id=member,
        channel_id=channel,
    )

    def failed(emulator) -> list[dict] | None:
        # In the waiting message, or (when the job failed before the bot recorded it) a new one.
        told = [message for message in emulator.messages(channel) if "Could not finish" in message["content"]]
        return told or None

    [message] = discord.wait_for(failed, timeout=TIMEOUT)
    assert "the image you gave was flagged by this server's NSFW filter: use another" in message["content"]
    assert not message["attachments"]  # nothing was made from it
