"""Prompts with characters nobody can see, or that cannot be encoded, get the parser's own errors."""

import pytest

from jobs.prompt import IGNORABLE_RANGES, PromptError, parse_prompt

EMPTY = "Write something to draw, like `a red fox in the snow`"
INVISIBLE = [
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u3164",
    "\ufe0f",
    "\U000e0100",
    "\u200b\u200d\u2060\ufeff\u00ad\u3164",
]


@pytest.mark.parametrize("text", [*INVISIBLE, " \u200b \u200b "], ids=ascii)
def test_a_prompt_of_invisible_characters_is_an_empty_prompt(text):
    with pytest.raises(PromptError) as caught:
        parse_prompt(text)
    assert str(caught.value) == EMPTY


@pytest.mark.parametrize("text", ["\u200b --ar 3:2", "\u3164\u3164 --seed 1"], ids=ascii)
def test_invisible_text_before_parameters_is_no_text(text):
    with pytest.raises(PromptError, match="Write something to draw before the parameters"):
        parse_prompt(text)


@pytest.mark.parametrize("text", ["\u200b:: cat", "cat:: \u2060 ::2 dog"], ids=ascii)
def test_an_invisible_multi_prompt_part_is_an_empty_part(text):
    with pytest.raises(PromptError, match="has no text before it"):
        parse_prompt(text)


def test_an_invisible_last_part_is_left_out():
    assert [part.text for part in parse_prompt("cat::2 \u200b").parts] == ["cat"]


def test_invisible_characters_inside_a_prompt_are_kept():
    """Emoji sequences need their joiners and selectors; the text encoder copes with the rest."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert parse_prompt(f"a {family} at the beach\ufe0f").parts[0].text == f"a {family} at the beach\ufe0f"


@pytest.mark.parametrize("text", ["a cat \ud800", "\udfff", "cat \ud83d\ude00 --ar \udc00:1"], ids=ascii)
def test_a_lone_surrogate_is_a_prompt_error(text):
    with pytest.raises(PromptError, match="broken character"):
        parse_prompt(text)


def test_the_ranges_are_unicodes_default_ignorable_code_points():
    regex = pytest.importorskip("regex")
    ignorable = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    expected = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and ignorable.match(chr(cp))]
    ours = [cp for low, high in IGNORABLE_RANGES for cp in range(low, high + 1)]
    assert ours == expected
