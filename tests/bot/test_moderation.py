"""Banned words and patterns, folded for case and accents."""

import pytest

from bot.moderation import BannedTerms, PatternError, check_pattern, fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [("CÂT", "cat"), ("Ｃａｆé", "cafe"), ("Straße", "strasse"), ("naïve ﬁle", "naive file")],
)
def test_fold_drops_case_accents_and_compatibility_forms(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_words_match_whole_words_and_phrases_in_any_case_or_accent() -> None:
    terms = BannedTerms(["cat", "très bad"], [])
    assert terms.found_in("a CÂT on a mat")
    assert terms.found_in("it is TRES\tBAD")
    assert terms.found_in("cat")
    assert not terms.found_in("concatenate these")
    assert not terms.found_in("a très good cat-free prompt".replace("cat", "dog"))


def test_patterns_match_the_folded_prompt() -> None:
    terms = BannedTerms([], [r"d[o0]g+y", r"\bBAT\b"])
    assert terms.found_in("a DÖGGY")
    assert terms.found_in("a d0ggy")
    assert terms.found_in("one bat")
    assert not terms.found_in("a dog and a battle")


def test_no_terms_match_nothing() -> None:
    assert not BannedTerms([], []).found_in("anything at all")


@pytest.mark.parametrize(
    ("pattern", "reason"), [("(", "not a regular expression"), (" ", "empty"), ("a" * 201, "200")]
)
def test_unusable_patterns_are_refused_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason):
        check_pattern(pattern)
