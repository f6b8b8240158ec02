"""What members read, and the buttons' layout."""

import time

import discord

from bot.commands import info
from bot.commands.info import MemberJob, Overview
from bot.delivery import render
from bot.delivery.deliveries import Delivery
from bot.requests import buttons
from jobs.specs import LoraUse, Safety

JOB = "0123456789abcdef0123456789abcdef"


def _delivery(**changes) -> Delivery:
    fields = {
        "job_id": JOB,
        "title": "a red fox --ar 3:2",
        "requester_id": 42,
        "channel_id": 7,
        "guild_id": 1,
        "application_id": 9,
        "interaction_token": "token",
        "interaction_at": time.time(),
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    return Delivery(**{**fields, **changes})


def _rows(view: discord.ui.View) -> list[list[dict]]:
    return [row["components"] for row in view.to_components()]


def test_waiting_names_prompt_requester_and_queue_position():
    assert (
        render.waiting(_delivery(position=3))
        == "**a red fox --ar 3:2** - <@42> (Waiting to start · #3 in queue)"
    )


def test_progress_shows_the_percentage():
    assert render.running(_delivery(), 42) == "**a red fox --ar 3:2** - <@42> (42%)"


def test_follow_ups_say_what_they_made():
    assert render.finished(_delivery(label="Image #2")) == "**a red fox --ar 3:2** - Image #2 <@42>"


def test_markdown_in_a_prompt_cannot_break_the_bold_title():
    assert render.headline(_delivery(title="**loud** _fox_")).startswith(r"**\*\*loud\*\* \_fox\_** - ")


def test_a_long_prompt_is_cut_to_fit_a_message():
    assert len(render.failed(_delivery(title="fox " * 1000), "the job took too long")) <= 2000


def test_warnings_follow_the_result_as_small_print():
    text = render.finished(_delivery(), ("words after 77 tokens were left out: x",))
    assert text.splitlines()[1] == "-# note: words after 77 tokens were left out: x"


def test_only_the_requester_may_be_pinged():
    mentions = render.mentions(_delivery()).to_dict()
    assert mentions["parse"] == []
    assert mentions["users"] == [42]


def test_grid_buttons_are_u1_to_u4_then_v1_to_v4_and_reroll():
    rows = _rows(buttons.grid_buttons(JOB))
    assert [button.get("label") for button in rows[0]] == ["U1", "U2", "U3", "U4"]
    assert [button.get("label") for button in rows[1]] == ["V1", "V2", "V3", "V4", None]
    assert rows[1][4]["emoji"]["name"] == "🔄"
    assert all(len(button["custom_id"]) <= 100 for row in rows for button in row)


def test_an_upscaled_image_offers_midjourneys_tools_in_its_rows_and_a_way_back():
    rows = _rows(buttons.upscale_buttons(JOB, "https://discord.com/channels/1/7/99", square=False))
    labels = [[button.get("label") or button["emoji"]["name"] for button in row] for row in rows]
    assert labels == [
        ["Vary (Subtle)", "Vary (Strong)", "Vary (Region)"],
        ["Zoom Out 2×", "Zoom Out 1.5×", "Custom Zoom", "Make Square"],
        ["⬅️", "➡️", "⬆️", "⬇️"],
        ["Upscale (Subtle)", "Upscale (Creative)"],
        ["Grid"],
    ]
    assert rows[4][0]["url"] == "https://discord.com/channels/1/7/99"
    assert rows[0][0]["custom_id"] == f"imagine:vary:{JOB}:1:subtle"
    assert rows[2][1]["custom_id"] == f"imagine:pan:{JOB}:1:right"
    assert all(len(button.get("custom_id", "")) <= 100 for row in rows for button in row)
    square = _rows(buttons.upscale_buttons(JOB, None, square=True))
    assert "Make Square" not in [button.get("label") for button in square[1]] and len(square) == 4


def test_overview_lists_queue_workers_and_the_members_jobs():
    text = info.text(
        Overview(waiting=3, running=1, workers={"gpu-a": "busy"}, mine=[MemberJob("a *fox*", "running")])
    )
    assert text.splitlines() == [
        "**Queue:** 3 waiting · 1 running",
        "**Workers online:** 1 · gpu-a (busy)",
        "**Your jobs:** 1 unfinished",
        r"- a \*fox\* · running",
    ]


def test_flagged_images_are_named_in_the_result() -> None:
    assert render.flag_notes(Safety.BLOCK, (2,), 4) == ("image #2 blocked by this server's NSFW filter",)
    assert render.flag_notes(Safety.SPOILER, (1, 3, 4), 4) == (
        "images #1, #3 and #4 marked as a spoiler: flagged as possibly NSFW",
    )
    assert render.flag_notes(Safety.BLOCK, (1,), 1) == ("this image blocked by this server's NSFW filter",)
    assert render.flag_notes(Safety.BLOCK, (), 4) == ()


def test_a_blocked_images_buttons_are_disabled() -> None:
    view = buttons.grid_buttons("a" * 32, blocked=(2,))
    disabled = {item.item.label or str(item.item.emoji): item.item.disabled for item in view.children}
    assert disabled == {**{f"{a}{n}": n == 2 for a in "UV" for n in range(1, 5)}, "🔄": False}


def test_a_result_fits_one_message_whatever_the_prompt_and_its_notes():
    delivery = _delivery(title="a *storm* over_the_sea " * 120, label="Variations (Subtle) by")
    notes = tuple(f"part {n} was cut: " + "words " * 60 for n in range(9))
    for text in (
        render.waiting(delivery.model_copy(update={"position": 12})),
        render.running(delivery, 42),
        render.finished(delivery, notes + notes),
        render.failed(delivery, "the reason " * 300),
    ):
        assert len(text) <= 2000
        assert text.startswith(r"**a \*storm\* over\_the\_sea")
        assert "…** - Variations (Subtle) by <@42>" in text


def test_repeated_notes_are_shown_once_and_too_many_are_counted():
    text = render.finished(_delivery(), ("cut", "cut", *(f"note {n} " * 20 for n in range(10))))
    lines = text.splitlines()
    assert lines[1] == "-# note: cut"
    assert lines.count("-# note: cut") == 1
    assert lines[-1].startswith("-# … and ") and lines[-1].endswith(" more notes")


def test_a_result_names_its_loras_and_weights_before_its_notes():
    loras = (LoraUse(name="ink", weight=0.6), LoraUse(name="paper", weight=1.0))
    text = render.finished(_delivery(), ("cut",), loras)
    assert text.splitlines()[1:] == ["-# LoRA `ink` 0.6 · `paper` 1", "-# note: cut"]
    assert "LoRA" not in render.finished(_delivery(), ("cut",))


def test_a_describe_result_lists_its_prompts_which_read_back_exactly():
    prompts = (
        "a *red* circle on a blue background --ar 3:2",
        "two_small \\ squares",
        "a `fox` > [x](y)",
        "# z",
    )
    content = render.described(_delivery(title="/describe"), prompts, ("a note",))
    assert content.startswith("**/describe** - <@42>\n**1.** a \\*red\\* circle")
    assert [render.described_prompt(content, n) for n in range(1, 5)] == list(prompts)
    assert render.described_prompt(content, 5) is None
    assert content.endswith("\n-# note: a note")


def test_a_describe_result_has_a_button_per_prompt_and_one_to_describe_again():
    [row] = _rows(buttons.describe_buttons(JOB, 4))
    assert [button.get("label") or button["emoji"]["name"] for button in row] == ["1", "2", "3", "4", "🔄"]
    assert (
        row[0]["custom_id"] == f"imagine:prompt:{JOB}:1" and row[4]["custom_id"] == f"imagine:describe:{JOB}"
    )
