"""Real Midjourney prompts, pasted as found (`tests/jobs/midjourney_prompts.toml`, each with its
source): every one draws a grid on the tiny model's resident engine (as the worker's imagine task
does, after the worker's checks), and each Midjourney parameter that does nothing here is named
in the result's notes; the few whose values are wrong (marked `refused`, with what the message
says) are refused saying so."""

import re
import tomllib
from pathlib import Path

import pytest

from jobs._flags import MIDJOURNEY_ONLY
from jobs.permutations import parse_combinations
from jobs.prompt import PromptError, parse_prompt
from jobs.resolve import imagine_specs, within_limits
from models.catalog import load_catalog
from tests.helpers import catalog_defaulting_to
from worker.checks import check_fits
from worker.engine import Engine

TABLE = Path(__file__).parents[1] / "jobs" / "midjourney_prompts.toml"
PROMPTS = tomllib.loads(TABLE.read_text())["prompt"]
NOTED = {name for flag in MIDJOURNEY_ONLY for name in flag.names}
_FLAG = re.compile(r"(?:^|\s)(?:--|[\N{EM DASH}\N{EN DASH}])([a-z]+)", re.IGNORECASE)


@pytest.mark.parametrize(
    "entry", [entry for entry in PROMPTS if "refused" in entry], ids=lambda e: e["text"][:40]
)
def test_a_pasted_prompt_with_a_wrong_value_is_refused_saying_so(entry: dict):
    """The few real pastes whose values Midjourney itself would not take, or we cannot."""
    with pytest.raises(PromptError, match=re.escape(entry["refused"])):
        parse_combinations(entry["text"], parse_prompt)


def test_the_table_holds_sixty_real_prompts_with_their_sources():
    assert len([entry for entry in PROMPTS if "refused" not in entry]) >= 60
    assert len({entry["text"] for entry in PROMPTS}) == len(PROMPTS)
    assert all(entry["source"].startswith(("https://", "http://")) for entry in PROMPTS)


@pytest.fixture(scope="module")
def tiny_catalog(tmp_path_factory: pytest.TempPathFactory):
    return load_catalog(catalog_defaulting_to("tiny", tmp_path_factory.mktemp("catalog")))


def test_every_prompt_in_the_table_draws_a_grid_noting_what_does_nothing_here(
    engines: dict[str, Engine], tiny_catalog
):
    engine = engines["tiny"]
    for entry in [entry for entry in PROMPTS if "refused" not in entry]:
        [(_, parsed), *_] = parse_combinations(entry["text"], parse_prompt)
        (spec, *_) = imagine_specs(parsed, tiny_catalog, seed=1)
        # Two steps at most, as a server's limit would have it: the table is about reading prompts.
        spec = within_limits(spec, max_side=None, max_steps=2, size_multiple=8)
        check_fits(spec, engine.model.entry.profile())  # as the worker checks a job it takes
        render = engine.imagine(spec.generation, lambda *_: None)  # as its imagine task draws
        assert len(render.images) == 4, entry["text"]
        said = " ".join(spec.warnings)
        for name in {found.lower() for found in _FLAG.findall(entry["text"])} & NOTED:
            assert f"`--{name}" in said, (entry["text"], spec.warnings)
