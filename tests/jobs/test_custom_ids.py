"""Button custom_ids: within Discord's limit, and read back by their own templates."""

import re

import pytest

from jobs import custom_ids
from jobs.specs import Direction, Strength

JOB = "0123456789abcdef0123456789abcdef"

CASES = [
    (custom_ids.upscale(JOB, 4), custom_ids.UPSCALE, {"job": JOB, "index": "4", "mode": None}),
    (
        custom_ids.upscale(JOB, 1, "creative"),
        custom_ids.UPSCALE,
        {"job": JOB, "index": "1", "mode": "creative"},
    ),
    (custom_ids.zoom(JOB, 1, "1.5"), custom_ids.ZOOM, {"job": JOB, "index": "1", "factor": "1.5"}),
    (custom_ids.zoom(JOB, 1, "custom"), custom_ids.ZOOM, {"job": JOB, "index": "1", "factor": "custom"}),
    (custom_ids.pan(JOB, 1, Direction.UP), custom_ids.PAN, {"job": JOB, "index": "1", "direction": "up"}),
    (custom_ids.square(JOB, 1), custom_ids.SQUARE, {"job": JOB, "index": "1"}),
    (custom_ids.region(JOB, 1), custom_ids.REGION, {"job": JOB, "index": "1"}),
    (custom_ids.cells(JOB, 1), custom_ids.CELLS, {"job": JOB, "index": "1"}),
    (
        custom_ids.region_prompt(JOB, 1, frozenset(range(1, 10))),
        custom_ids.REMIX,
        {"action": f"region:{JOB}:1:123456789"},
    ),
    (custom_ids.remix(custom_ids.vary(JOB, 3)), custom_ids.REMIX, {"action": f"vary:{JOB}:3"}),
    (custom_ids.vary(JOB, 2), custom_ids.VARY, {"job": JOB, "index": "2", "strength": None}),
    (
        custom_ids.vary(JOB, 1, Strength.STRONG),
        custom_ids.VARY,
        {"job": JOB, "index": "1", "strength": "strong"},
    ),
    (custom_ids.reroll(JOB), custom_ids.REROLL, {"job": JOB}),
    (custom_ids.retry(JOB), custom_ids.RETRY, {"job": JOB}),
]


@pytest.mark.parametrize(("custom_id", "template", "groups"), CASES)
def test_each_custom_id_round_trips_through_its_template(custom_id, template, groups):
    match = re.fullmatch(template, custom_id)
    assert match is not None
    assert match.groupdict() == groups
    assert len(custom_id) <= custom_ids.MAX_LENGTH


@pytest.mark.parametrize(("custom_id", "template", "groups"), CASES)
def test_no_custom_id_matches_another_template(custom_id, template, groups):
    others = {custom_ids.UPSCALE, custom_ids.VARY, custom_ids.REROLL, custom_ids.RETRY} - {template}
    assert not any(re.fullmatch(other, custom_id) for other in others)


@pytest.mark.parametrize(
    "forged",
    [
        f"imagine:upscale:{JOB}:5",
        f"imagine:upscale:{JOB.upper()}:1",
        f"imagine:vary:{JOB}:1:wild",
        f"imagine:reroll:{JOB}:1",
        "imagine:reroll:../../etc",
    ],
)
def test_forged_custom_ids_match_nothing(forged):
    templates = [custom_ids.UPSCALE, custom_ids.VARY, custom_ids.REROLL, custom_ids.RETRY]
    assert not any(re.fullmatch(template, forged) for template in templates)
