"""A member's `--name` shortcuts and suffix, and how they meet the prompt's own flags."""

import pytest

from jobs.expansion import check_flags, check_option, expand, member_prompt
from jobs.prompt import PromptError


def test_a_shortcut_expands_to_its_flags_in_any_case() -> None:
    options = {"wide": "--ar 2:1 --seed 3"}
    assert expand("a road --WIDE", options) == "a road --ar 2:1 --seed 3"
    assert expand("a road —wide --q 2", options) == "a road --ar 2:1 --seed 3 --q 2"


def test_words_that_only_contain_a_shortcut_stay() -> None:
    options = {"wide": "--ar 2:1"}
    assert expand("a road--wide x --wider", options) == "a road--wide x --wider"


def test_the_prompt_wins_over_the_suffix_and_the_suffix_over_defaults() -> None:
    parsed = member_prompt(
        "a fox --seed 1",
        options={},
        suffix="--seed 2 --steps 9",
        defaults={"steps": 30, "model": "tiny", "aspect": (3, 2)},
    )
    assert (parsed.seed, parsed.steps, parsed.model, parsed.aspect) == (1, 9, "tiny", (3, 2))


def test_a_broken_suffix_is_named_as_the_problem() -> None:
    with pytest.raises(PromptError, match="Your `/prefer suffix` needs a change"):
        member_prompt("a fox", options={}, suffix="--steps 9000", defaults={})


@pytest.mark.parametrize(
    ("name", "flags", "reason"),
    [
        ("ar", "--q 2", "already a parameter"),
        ("two words", "--q 2", "letters, digits"),
        ("ok", "a fox", "Start with a parameter"),
        ("ok", "--q 3", "isn't a quality setting"),
        ("ok", "   ", "at least one parameter"),
    ],
)
def test_unusable_shortcuts_are_refused_with_a_reason(name: str, flags: str, reason: str) -> None:
    with pytest.raises(PromptError, match=reason):
        check_option(name, flags)


def test_a_shortcut_name_is_kept_lowercase_without_dashes() -> None:
    assert check_option("--Anime", "--ar 3:2") == "anime"
    check_flags("--ar 3:2 --no text, logos")
