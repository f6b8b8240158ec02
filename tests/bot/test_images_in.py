"""Images as input, end to end: attachments and links on `/imagine` (with `--iw`), style references
(`--sref`), `/blend`, `/describe` and its buttons, and every fetch the bot must refuse; the real bot
and worker, the Discord emulator's attachment options and CDN URLs, and the shapes model where the
pictures are read."""

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator, DiscordEmulator, Upload
from playground.stack import Process
from tests.bot.conftest import BotStarter, run_worker
from tests.bot.test_after_upscale import _spec
from tests.bot.test_end_to_end import TIMEOUT, _button, _image, _results, _wait_results
from tests.helpers import catalog_defaulting_to, grid_readings, matching
from training.shapes.scenes import Scene, render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def worker(
    stack_redis: LocalRedis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    yield from run_worker(stack_redis, model_cache, tmp_path_factory, models="tiny,shapes")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


YELLOW_SCENE = _png(render(Scene("square", "green", 1, "large", "yellow"), seed=1))


def _refusal(discord: BackgroundEmulator, interaction) -> str:
    """The one private answer a refused request gets; nothing is left in the channel."""
    discord.wait_for(lambda emulator: interaction.ephemeral, timeout=30)
    [answer] = interaction.ephemeral
    return answer["content"]


def test_an_attached_image_counts_as_much_as_iw_says(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    prompt = "a red circle on a blue background --model shapes --seed 4"
    for weight in ("0", "3"):
        discord.slash(
            "imagine",
            {"prompt": f"{prompt} --iw {weight}", "image": Upload("yellow.png", YELLOW_SCENE)},
            user_id=member,
            channel_id=channel,
        )
    ignored, kept = _wait_results(discord, channel, 2)
    by_weight = {"0": ignored, "3": kept} if "--iw 0" in ignored["content"] else {"0": kept, "3": ignored}
    backgrounds = {
        w: [seen.background for seen in grid_readings(m["attachments"][0]["data"])]
        for w, m in by_weight.items()
    }
    assert backgrounds["3"].count("yellow") >= 3, backgrounds  # the image's own background stays
    assert backgrounds["0"].count("yellow") <= 1, backgrounds  # the prompt's blue wins


def test_an_image_link_at_the_start_of_the_prompt_is_an_image_prompt(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    discord.slash(
        "imagine", {"prompt": "a yellow square --model shapes --seed 2"}, user_id=member, channel_id=channel
    )
    [grid] = _wait_results(discord, channel, 1)
    link = grid["attachments"][0]["url"]  # on the (emulated) CDN
    discord.slash(
        "imagine",
        {"prompt": f"<{link}> a red circle --model shapes --iw 2"},
        user_id=member,
        channel_id=channel,
    )
    _, made = _wait_results(discord, channel, 2)
    assert _image(made).size == _image(grid).size
    assert "Could not finish" not in made["content"]


def test_a_style_reference_moves_the_background_toward_its_own(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    prompt = "a red circle --model shapes --seed 5"  # the background is left to the model
    discord.slash("imagine", {"prompt": prompt}, user_id=member, channel_id=channel)
    [plain] = _wait_results(discord, channel, 1)
    discord.slash(
        "imagine",
        {"prompt": prompt, "sref": Upload("yellow.png", YELLOW_SCENE)},
        user_id=member,
        channel_id=channel,
    )
    _, styled = _wait_results(discord, channel, 2)
    seen = {
        name: grid_readings(m["attachments"][0]["data"]) for name, m in (("plain", plain), ("styled", styled))
    }
    assert matching(seen["styled"], background="yellow") >= 3, seen
    assert matching(seen["plain"], background="yellow") <= 1, seen
    assert matching(seen["styled"], colour="red") >= 3, seen  # the prompt still says what to draw


def test_a_model_without_an_adapter_refuses_a_style_reference(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    interaction = discord.slash(
        "imagine",
        {"prompt": "a fox --model tiny", "sref": Upload("yellow.png", YELLOW_SCENE)},
        user_id=member,
        channel_id=channel,
    )
    assert "`--sref` needs an image adapter, and `tiny` has none" in _refusal(discord, interaction)
    blending = discord.slash(
        "blend",
        {"image1": Upload("a.png", YELLOW_SCENE), "image2": Upload("b.png", YELLOW_SCENE)},
        user_id=member,
        channel_id=channel,
    )
    assert "/blend needs an image adapter, and `tiny` has none" in _refusal(discord, blending)


def test_blend_draws_a_grid_from_the_images_alone(
    discord: BackgroundEmulator,
    start_bot: BotStarter,
    channel: int,
    member: int,
    tmp_path: Path,
):
    """A blend takes no seed, so the test asks what holds for any: two pictures on yellow blend into
    yellow backgrounds (what the shapes model draws from no words is almost never yellow). What a
    blend takes from each of two different pictures is measured on fixed seeds in
    tests/training/test_adapter.py."""
    start_bot(catalog=str(catalog_defaulting_to("shapes", tmp_path)))
    other = _png(render(Scene("triangle", "purple", 1, "large", "yellow", "center"), seed=0))
    discord.slash(
        "blend",
        {
            "image1": Upload("a.png", YELLOW_SCENE),
            "image2": Upload("b.png", other),
            "dimensions": "landscape",
        },
        user_id=member,
        channel_id=channel,
    )
    [grid] = _wait_results(discord, channel, 1)
    assert grid["content"].startswith(f"**/blend** - <@{member}>"), grid["content"]
    width, height = _image(grid).size
    assert width > height  # landscape
    seen = grid_readings(grid["attachments"][0]["data"])
    assert matching(seen, background="yellow") >= 3, seen
    for label in ("U1", "V4", "🔄"):
        _button(grid, label)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb() -> bytes:
    """A PNG whose header claims 30000×30000 pixels (900 M), with hardly any data."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 100)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"prompt": "http://example.com/fox.png a fox"}, "isn't on Discord's CDN"),
        ({"prompt": "http://10.0.0.1/fox.png a fox"}, "isn't on Discord's CDN"),
        (
            {"prompt": "a fox", "image": Upload("notes.txt", b"just some text, not a picture")},
            "isn't a PNG, JPEG, WebP or GIF",
        ),
        ({"prompt": "a fox", "image": Upload("bomb.png", _bomb())}, "too many pixels"),
        (
            {
                "prompt": "a fox",
                "image": Upload("big.png", _png(Image.effect_noise((600, 600), 90).convert("RGB"))),
            },
            "images can be at most",
        ),
        (
            {
                "prompt": " ".join(f"https://cdn.discordapp.com/{n}.png" for n in range(3)) + " a fox",
                "image": Upload("a.png", YELLOW_SCENE),
                "image2": Upload("b.png", YELLOW_SCENE),
                "image3": Upload("c.png", YELLOW_SCENE),
            },
            "at most 5",
        ),
    ],
    ids=["other-host", "private-host", "not-an-image", "decompression-bomb", "over-the-size-cap", "too-many"],
)
def test_an_image_that_is_not_safe_to_use_is_refused_with_a_reason(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, options: dict, said: str
):
    start_bot(upload_max_bytes="200000")
    interaction = discord.slash("imagine", options, user_id=member, channel_id=channel)
    assert said in _refusal(discord, interaction)
    assert discord.messages(channel) == []  # the thinking placeholder is gone, nothing was queued


def test_a_cdn_on_a_private_address_is_refused_unless_the_operator_allows_it(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot(cdn_private_ok="false")  # the emulator's CDN is on 127.0.0.1
    interaction = discord.slash(
        "imagine",
        {"prompt": "a fox", "image": Upload("yellow.png", YELLOW_SCENE)},
        user_id=member,
        channel_id=channel,
    )
    assert "points at a private address" in _refusal(discord, interaction)


def test_describe_writes_four_prompts_whose_buttons_start_jobs(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int
):
    start_bot()
    scene = _png(render(Scene("circle", "red", 2, "small", "blue"), seed=3))
    discord.slash("describe", {"image": Upload("scene.png", scene)}, user_id=member, channel_id=channel)
    [described] = _wait_results(discord, channel, 1)
    lines = [line for line in described["content"].splitlines() if line[:3] in {"**1", "**2", "**3", "**4"}]
    assert len(lines) == 4, described["content"]
    assert "red" in lines[0] and "circle" in lines[0] and "blue" in lines[0], lines[0]
    assert described["content"].startswith(f"**/describe** - <@{member}>")
    assert _image(described).size == (64, 64)  # the image it describes

    message = int(described["id"])
    discord.click(message, _button(described, "1"), user_id=member)
    discord.click(message, _button(described, "🔄"), user_id=member)

    def settled(emulator: DiscordEmulator) -> list[dict] | None:
        found = _results(emulator, channel)
        return found if len(found) == 3 else None

    _, *made = discord.wait_for(settled, timeout=TIMEOUT)
    grid = next(m for m in made if "/describe" not in m["content"])
    again = next(m for m in made if "/describe" in m["content"])
    assert grid["content"].startswith(f"**{_plain(lines[0])}** - <@{member}>")
    assert len(grid_readings(grid["attachments"][0]["data"])) == 4
    assert sum(line.startswith("**") for line in again["content"].splitlines()) == 5  # headline + four


def _plain(line: str) -> str:
    return line.split("** ", 1)[1]


def test_weighted_style_links_in_options_are_fetched_once_and_weighed_per_combination(
    discord: BackgroundEmulator, start_bot: BotStarter, channel: int, member: int, stack_url: str
):
    """`--sref {<yellow>::4 <white>, <yellow> <white>::4, <white>}`: three grids from two links,
    each styled after its own references: the heavier one's background wins."""
    start_bot()
    for background in ("yellow", "white"):
        discord.slash(
            "imagine",
            {"prompt": f"a large green square on a {background} background --model shapes --seed 1"},
            user_id=member,
            channel_id=channel,
        )
    made = _wait_results(discord, channel, 2)
    yellow, white = (
        f"<{m['attachments'][0]['url']}>" for m in sorted(made, key=lambda m: "white" in m["content"])
    )
    options = f"{yellow}::4 {white}, {yellow} {white}::4, {white}"
    discord.slash(
        "imagine",
        {"prompt": f"a red circle --model shapes --seed 5 --sref {{{options}}}"},
        user_id=member,
        channel_id=channel,
    )
    grids = _wait_results(discord, channel, 5)[2:]
    specs = [_spec(stack_url, grid) for grid in grids]
    assert [spec["style_image_weights"] for spec in specs] == [[4, 1], [1, 4], []]
    assert specs[0]["style_images"] == specs[1]["style_images"]  # each link fetched once
    assert specs[2]["style_images"] == specs[0]["style_images"][1:]
    seen = [grid_readings(grid["attachments"][0]["data"]) for grid in grids]
    assert [matching(readings, background="yellow") >= 3 for readings in seen] == [True, False, False], seen
    assert [matching(readings, background="white") >= 3 for readings in seen] == [False, True, True], seen
