"""The tools under an upscaled image, end to end: the real bot and worker, the Discord emulator
(buttons, a select menu, modals), and the shapes model where the pictures are read."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from redis import Redis

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator
from jobs import custom_ids, keys
from playground.stack import Process
from tests.bot.conftest import BotStarter, run_worker
from tests.bot.test_end_to_end import _button, _image, _results, _wait_quiet, _wait_results
from tests.helpers import grid_readings, matching
from training.shapes.measure import read
from training.shapes.scenes import COLOURS

pytestmark = pytest.mark.slow

ASKED = {"colour": "red", "shape": "circle", "background": "blue"}


@pytest.fixture(scope="module")
def worker(
    stack_redis: LocalRedis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    yield from run_worker(stack_redis, model_cache, tmp_path_factory, models="tiny,shapes")


def _upscaled(discord: BackgroundEmulator, channel: int, member: int, prompt: str) -> tuple[dict, dict]:
    """A grid of `prompt` and U1 (or the first image showing a red circle, for the shapes model)."""
    discord.slash("imagine", {"prompt": prompt}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    readings = grid_readings(grid["attachments"][0]["data"])
    chosen = next((i for i, seen in enumerate(readings, 1) if matching([seen], **ASKED)), 1)
    discord.click(int(grid["id"]), _button(grid, f"U{chosen}"), user_id=member)
    _, upscaled = _wait_quiet(discord, channel, 2)
    return grid, upscaled


def _spec(stack_url: str, message: dict) -> dict:
    """The job spec behind a result's buttons."""
    job = re.search(r"imagine:\w+:(?P<job>[0-9a-f]{32})", json.dumps(message["components"]))["job"]
    return json.loads(Redis.from_url(stack_url).get(keys.spec_key(job)))


def test_zoom_pan_and_region_from_an_upscaled_circle(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    _, upscaled = _upscaled(
        discord, channel, member, "a red circle on a blue background --model shapes --seed 3"
    )
    message = int(upscaled["id"])
    discord.click(message, _button(upscaled, "Zoom Out 2×"), user_id=member)
    discord.click(message, _button(upscaled, "➡️"), user_id=member)

    # Vary (Region): the member alone sees the parts menu; the cells holding the circle, then the prompt.
    opened = discord.click(message, _button(upscaled, "Vary (Region)"), user_id=member)
    discord.wait_for(lambda emulator: opened.ephemeral, timeout=10)
    [menu] = opened.ephemeral
    [[select]] = [row["components"] for row in menu["components"]]
    assert select["type"] == 3 and len(select["options"]) == 13 and select["max_values"] == 13
    pixels = np.asarray(_image(upscaled).convert("RGB"), dtype=float)
    rows, columns = np.nonzero(np.linalg.norm(pixels - COLOURS["red"], axis=2) < 60)
    side = pixels.shape[0]
    cells = sorted({str(3 * (r * 3 // side) + c * 3 // side + 1) for r, c in zip(rows, columns, strict=True)})
    chose = discord.choose(int(menu["id"]), select["custom_id"], cells, user_id=member)
    discord.wait_for(lambda emulator: chose.modal, timeout=10)
    assert chose.modal["title"] == "Vary (Region)"
    # The new prompt's seed makes the repaint repeatable (without one, follow-ups draw fresh seeds).
    discord.submit_modal(chose, {"prompt": "a green square on a blue background --seed 11"})

    messages = _wait_quiet(discord, channel, 5)
    by_label = {
        label: m
        for m in messages[2:]
        for label in ("Zoom Out 2×", "Pan right", "Vary (Region)")
        if label in m["content"]
    }
    assert set(by_label) == {"Zoom Out 2×", "Pan right", "Vary (Region)"}
    zoomed = _image(by_label["Zoom Out 2×"])
    assert zoomed.size == (128, 128)  # four 64² images: the grid's size, not the upscale's
    for index in range(4):
        middle = zoomed.crop(
            (64 * (index % 2) + 20, 64 * (index // 2) + 20, 64 * (index % 2) + 44, 64 * (index // 2) + 44)
        )
        assert read(middle.resize((64, 64))).colour == "red"
    assert _image(by_label["Pan right"]).size == (192, 128)
    repainted = grid_readings(by_label["Vary (Region)"]["attachments"][0]["data"])
    # Seeds 11-14 repaint all four green here (the source's circle was red); one may miss elsewhere.
    assert sum(seen.colour == "green" for seen in repainted) >= 3, repainted


def test_custom_zoom_make_square_and_the_servers_kind_of_upscale(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    start_bot()
    owner = discord.call(lambda emulator: emulator.owner_id)
    discord.wait_acknowledged(discord.slash("admin models upscales", {"kind": "creative"}, user_id=owner))
    _, upscaled = _upscaled(discord, channel, member, "a tall tower --ar 2:3 --seed 5")
    assert "Image #1 (Creative)" in upscaled["content"]  # U1 made what the server chose
    assert _spec(stack_url, upscaled)["creative"] is True

    custom = _button(upscaled, "Custom Zoom")
    opened = discord.click(int(upscaled["id"]), custom, user_id=member)
    discord.wait_for(lambda emulator: opened.modal, timeout=10)
    assert opened.modal["title"] == "Custom Zoom"
    refused = discord.submit_modal(opened, {"factor": "3"})
    discord.wait_for(lambda emulator: refused.ephemeral, timeout=10)
    assert "more than 1 and at most 2" in refused.ephemeral[0]["content"]

    again = discord.click(int(upscaled["id"]), custom, user_id=member)
    discord.wait_for(lambda emulator: again.modal, timeout=10)
    discord.submit_modal(again, {"factor": "1.25", "prompt": "a tall tower at night"})
    discord.click(int(upscaled["id"]), _button(upscaled, "Make Square"), user_id=member)
    discord.click(int(upscaled["id"]), _button(upscaled, "Upscale (Subtle)"), user_id=member)
    messages = _wait_quiet(discord, channel, 5)
    [zoomed] = [m for m in messages if "Zoom Out 1.25× by" in m["content"]]
    spec = _spec(stack_url, zoomed)
    assert spec["op"] == "zoom" and spec["factor"] == 1.25
    assert spec["generation"]["prompt"][0]["text"] == "a tall tower at night"
    [square] = [m for m in messages if "Square by" in m["content"]]
    width, height = _image(upscaled).size
    assert _image(square).size == (height, height)  # four images as tall as the grid's
    [subtle] = [m for m in messages[2:] if "Image #1" in m["content"]]
    assert "(Creative)" not in subtle["content"] and _image(subtle).size == (width, height)


def test_remix_asks_for_the_prompt_first_even_across_a_restart(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    bot = start_bot()
    discord.wait_acknowledged(discord.slash("settings", {"remix": True}, user_id=member))
    shortcut = {"name": "misty", "flags": "--no fog"}
    discord.wait_acknowledged(discord.slash("prefer option set", shortcut, user_id=member))
    discord.slash("imagine", {"prompt": "a snowy owl --no fog"}, user_id=member, channel_id=channel)
    [grid] = _wait_results(discord, channel, 1)
    opened = discord.click(int(grid["id"]), _button(grid, "V2"), user_id=member)
    discord.wait_for(lambda emulator: opened.modal, timeout=10)
    assert _prefilled(opened.modal) == "a snowy owl --no fog"
    assert discord.call(lambda emulator: len(_results(emulator, channel))) == 1  # nothing started yet

    bot.kill()
    start_bot()
    discord.submit_modal(opened, {"prompt": "a snowy fox --misty"})  # the member's own shortcut
    [_, varied] = _wait_quiet(discord, channel, 2)
    assert "Variations" in varied["content"]
    spec = _spec(stack_url, varied)
    assert spec["generation"]["prompt"][0]["text"] == "a snowy fox"
    assert spec["generation"]["negative"] == "fog"
    assert spec["source"]["index"] == 2


def test_vary_region_on_an_expired_image_restores_it_from_the_message(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    start_bot()
    _, upscaled = _upscaled(discord, channel, member, "a quiet lake --seed 2")
    job = re.fullmatch(custom_ids.REGION, _button(upscaled, "Vary (Region)"))["job"]
    redis = Redis.from_url(stack_url)
    redis.delete(*redis.keys(f"imagine:artifact:{job}:*"))
    opened = discord.click(int(upscaled["id"]), _button(upscaled, "Vary (Region)"), user_id=member)
    discord.wait_for(lambda emulator: opened.ephemeral, timeout=10)
    [menu] = opened.ephemeral
    chose = discord.choose(
        int(menu["id"]), menu["components"][0]["components"][0]["custom_id"], ["left", "5"], user_id=member
    )
    discord.wait_for(lambda emulator: chose.modal, timeout=10)
    discord.submit_modal(chose, {})  # the prompt as it was
    [*_, repainted] = _wait_quiet(discord, channel, 3)
    assert "Vary (Region) by" in repainted["content"]
    assert sorted(_spec(stack_url, repainted)["cells"]) == [1, 4, 5, 7]
    assert redis.keys(f"imagine:artifact:{job}:*")  # restored from the message's copy


def _prefilled(modal: dict) -> str:
    found = [
        c for row in modal["components"] for c in [row.get("component") or {}, *row.get("components", [])]
    ]
    return next(c["value"] for c in found if c.get("custom_id") == "prompt")
