"""`python -m bench soak`: the whole stack under many members and every fault, checked from outside.

The slow test runs a small soak and asserts the invariant; the others check the harness's own parts
(the schedule, how it reads the channel) without starting anything."""

import json
import random
import subprocess
import sys

import pytest

from bench.soak import _faults
from bench.soak.faults import KINDS, schedule
from bench.soak.view import Snapshot, follow_up_label, headline_key, imagine_key, read, waiting_key

SOAK = ("--jobs", "24", "--members", "8", "--seed", "3", "--faults", "all", "--json")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a hang guard only: how long it takes depends on the machine's load
def test_a_small_soak_with_every_fault_loses_nothing_and_answers_everything(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "soak", *SOAK, "--keep-logs", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)
    findings = [f for f in report["findings"] if f["kind"] != "failure"]
    assert set(report["faults"]) == set(KINDS), report["faults_skipped"]
    assert report["accepted"] >= 24
    assert report["results"] + report["failures"] == report["accepted"], findings
    for figure in ("lost", "duplicated", "unanswered", "late", "dead", "forged_accepted", "ambiguous"):
        assert report[figure] == 0, (figure, findings)
    assert result.returncode == 0, findings


def test_the_schedule_is_the_seeds_and_has_every_kind_once_on_a_small_run():
    first = schedule(list(KINDS), 24, random.Random(3))
    assert first == schedule(list(KINDS), 24, random.Random(3))
    assert sorted(p.kind for p in first) == sorted(KINDS)
    assert all(2 <= p.after_jobs <= 21 for p in first)
    assert len(schedule(["bot_kill"], 300, random.Random(1))) == 7  # about once per 40 jobs


def test_fault_lists_are_checked():
    assert _faults("none") == [] and _faults("all") == list(KINDS)
    assert _faults("bot_kill, http_429") == ["bot_kill", "http_429"]
    with pytest.raises(Exception, match="unknown fault kinds"):
        _faults("bot_kill,meteor")


def _message(content: str, *, attachments: int = 0, buttons: tuple[dict, ...] = (), author: int = 1) -> dict:
    return {
        "id": 10,
        "author_id": author,
        "content": content,
        "attachments": attachments,
        "buttons": list(buttons),
    }


def test_waiting_progress_result_and_failure_of_one_job_share_its_key():
    key = headline_key("tag0001 a red fox", "Image #2", 42)
    assert waiting_key("**tag0001 a red fox** - Image #2 <@42> (Waiting to start · #3 in queue)") == key
    u1 = {"label": "U1", "custom_id": "imagine:upscale:" + "a" * 32 + ":1", "emoji": None}
    shown = [
        read(_message("**tag0001 a red fox** - Image #2 <@42> (40%)")),
        read(_message("**tag0001 a red fox** - Image #2 <@42>\n-# note: cut", attachments=1, buttons=(u1,))),
        read(_message("**tag0001 a red fox** - Image #2 <@42>\n**Could not finish:** it broke")),
    ]
    assert [s.state for s in shown] == ["waiting", "result", "failure"]
    assert {s.key for s in shown} == {key}
    assert shown[2].reason == "it broke"
    snapshot = Snapshot.of([_message("**x** - <@1>", attachments=1, buttons=(u1,), author=2)], bot_id=1)
    assert snapshot.shown == []  # only the bot's messages count


def test_a_long_prompt_cut_differently_in_two_messages_keeps_one_key():
    prompt = "tag0002 " + "word " * 500
    full = imagine_key(prompt, 7)
    assert headline_key(prompt[:1200] + "…", "", 7) == full == headline_key(prompt[:900] + "…", "", 7)
    assert imagine_key("tag0003 snake_case", 7) == r"**tag0003 snake\_case** - <@7>"


def test_each_button_names_the_label_of_the_job_it_starts():
    shown = read(_message("**p** - Image #3 <@5>\n**Could not finish:** no", buttons=()))
    assert follow_up_label(shown, {"label": "U4"}) == "Image #4"
    assert follow_up_label(shown, {"label": "V2"}) == "Variations (Subtle) by"
    assert follow_up_label(shown, {"label": "Vary (Strong)"}) == "Variations (Strong) by"
    assert follow_up_label(shown, {"label": None, "emoji": "🔄"}) == ""
    assert follow_up_label(shown, {"label": "Retry"}) == "Image #3"
    assert follow_up_label(shown, {"label": "Grid", "url": "https://x"}) is None
    assert follow_up_label(shown, {"label": "Zoom Out 1.5×", "emoji": "🔍"}) == "Zoom Out 1.5× by"
    assert follow_up_label(shown, {"label": None, "emoji": "⬇️"}) == "Pan down by"
    assert follow_up_label(shown, {"label": "Make Square"}) == "Square by"
    assert follow_up_label(shown, {"label": "Upscale (Creative)"}) == "Image #3 (Creative)"
    assert follow_up_label(shown, {"label": "Upscale (Subtle)"}) == "Image #3"
    assert follow_up_label(shown, {"label": "Custom Zoom"}) is None  # a form first: not clicked
