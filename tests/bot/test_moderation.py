"""Banned words and patterns: folding (case, accents, look-alikes, invisible characters), whole-word
matching in the default and the strict mode, and admins' patterns checked fast and within bounds."""

import time

import pytest

from bot.rules.moderation import BannedTerms, PatternError, banned_terms, check_pattern, fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("CÂT", "cat"),
        ("Ｃａｆé", "cafe"),
        ("Straße", "strasse"),
        ("naïve ﬁle", "naive file"),
        ("c\u0430t", "cat"),  # Cyrillic а
        ("\u0421\u0410\u0422", "cat"),  # Cyrillic САТ
        ("ca\u0442", "cat"),  # Cyrillic т, whose look-alike is a small capital T
        ("c\u03b1t", "cat"),  # Greek α
        ("c\u200bat", "cat"),
        ("c\U000e0041at\ufe0f", "cat"),  # a tag character, a variation selector
        ("c\u3164at", "cat"),  # Hangul filler
        ("𝐜𝐚𝐭", "cat"),
        # ASCII stays as typed: a full UTS #39 skeleton would make `burn` of `bum` and `l` of `1`.
        ("rn m 1 l 0 o", "rn m 1 l 0 o"),
    ],
)
def test_fold_drops_case_accents_look_alikes_and_invisible_characters(text: str, folded: str) -> None:
    assert fold(text) == folded


# Each spelling, and whether the default and the strict mode refuse it, with `cat` banned.
SPELLINGS = [
    ("cat", True, True),
    ("a CAT", True, True),
    ("Cat.", True, True),
    ("câT", True, True),
    ("ｃａｔ", True, True),  # fullwidth
    ("𝐜𝐚𝐭", True, True),  # mathematical bold
    ("ⓒⓐⓣ", True, True),  # circled
    ("c\u0430t", True, True),  # Cyrillic а
    ("\u0441\u0430t", True, True),  # Cyrillic с and а
    ("c\u03b1t", True, True),  # Greek α
    ("ca\u03c4", True, True),  # Greek τ
    ("c\u200bat", True, True),  # zero-width space
    ("c\u200dat", True, True),  # zero-width joiner
    ("c\u200cat", True, True),  # zero-width non-joiner
    ("c\u00adat", True, True),  # soft hyphen
    ("c\u2060at", True, True),  # word joiner
    ("\ufeffcat", True, True),  # zero-width no-break space
    ("ca\ufe0ft", True, True),  # variation selector
    ("c\U000e0020at", True, True),  # tag space
    ("c\u3164at", True, True),  # Hangul filler
    ("c\u034fat", True, True),  # combining grapheme joiner
    ("c\u180eat", True, True),  # Mongolian vowel separator
    ("_cat_", True, True),
    ("#cat!", True, True),
    ("c4t", False, True),
    ("c@t", False, True),
    ("C4T", False, True),
    ("c a t", False, True),
    ("c.a.t", False, True),
    ("c-a-t", False, True),
    ("c_a_t", False, True),
    ("c 4 t", False, True),
    # Innocent words that hold `cat`, and near misses: allowed in both modes.
    ("chateaubriand", False, False),
    ("concatenate", False, False),
    ("scatter", False, False),
    ("cathedral", False, False),
    ("a bobcat", False, False),
    ("vitamin c at noon", False, False),  # spaced letters must be spaced all through
    ("c1t", False, False),
    ("cut", False, False),
]


@pytest.mark.parametrize(("text", "default", "strict"), SPELLINGS)
def test_banned_spellings_per_mode(text: str, default: bool, strict: bool) -> None:
    assert BannedTerms(["cat"], []).found_in(text) is default
    assert BannedTerms(["cat"], [], strict=True).found_in(text) is strict


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a bad word", True),
        ("it is BAD\tWORD", True),
        ("badword", True),
        ("bad_word", True),
        ("bad-word", True),
        ("bad. word", True),
        ("a badwordy thing", False),
        ("bad words", False),
        ("a bad sword", False),
    ],
)
def test_a_phrase_joins_with_or_without_separators(text: str, found: bool) -> None:
    assert BannedTerms(["bad word"], []).found_in(text) is found


def test_strict_mode_catches_leetspeak_and_spaced_phrases() -> None:
    terms = BannedTerms(["bad word", "lost"], [], strict=True)
    assert terms.found_in("b4d w0rd") and terms.found_in("b a d w o r d") and terms.found_in("l0$7")
    assert not terms.found_in("a b add word") and not terms.found_in("lo st") and not terms.found_in("l0s7er")


def test_plain_ascii_look_alikes_do_not_collide() -> None:
    assert not BannedTerms(["burn"], []).found_in("a bum")
    assert not BannedTerms(["clam"], []).found_in("a cdam")
    assert BannedTerms(["burn"], []).found_in("bu\u0433n")  # Cyrillic г looks like r
    assert BannedTerms(["кот"], []).found_in("КОТ")  # a banned word in another script still matches


def test_patterns_match_the_folded_prompt() -> None:
    terms = BannedTerms([], [r"d[o0]g+y", r"\bBAT\b", r"\pL+ium"])
    assert terms.found_in("a DÖGGY")
    assert terms.found_in("a d0ggy")
    assert terms.found_in("one bat")
    assert terms.found_in("the vanadium")
    assert not terms.found_in("a dog and a battle")


def test_no_terms_match_nothing() -> None:
    assert not BannedTerms([], []).found_in("anything at all")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", "missing \\)"),
        (" ", "empty"),
        ("a" * 201, "200"),
        (r"(?<!x)cat", "RE2"),  # look-behind: not in RE2's syntax
        (r"(a)\1", "RE2"),
        (r"(?:a{3000}){3000}", "repeats"),
        (r"(?:a{100}){100}", "repeats"),
        (r"(?:\pL{30}){30}", "too big"),
    ],
)
def test_unusable_patterns_are_refused_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", [r"(?:a{3000}){3000}", r"(?:\pL{30}){30}", r"[\p{Han}\pL\pN]{500}"])
def test_a_hostile_pattern_is_refused_within_a_few_milliseconds(pattern: str) -> None:
    started = time.perf_counter()
    with pytest.raises(PatternError):
        check_pattern(pattern)
    assert time.perf_counter() - started < 0.1


def test_an_unusable_stored_pattern_is_skipped_and_reported_while_the_rest_apply() -> None:
    terms = BannedTerms(["cat"], [r"(?:a{3000}){3000}", r"(?<!x)dog", "owl+"])
    assert set(terms.unusable) == {r"(?:a{3000}){3000}", r"(?<!x)dog"}
    assert "RE2" in terms.unusable[r"(?<!x)dog"]
    assert terms.found_in("a cat") and terms.found_in("an owll") and not terms.found_in("a dog")


def test_matching_500_words_and_500_patterns_stays_fast() -> None:
    words = tuple(f"word{n} phrase{n}" for n in range(500))
    patterns = tuple(f"pat{n}[a-z]+x" for n in range(500))
    prompt = "a long prompt about foxes in the snow, " * 20 + " --ar 2:1"
    for strict in (False, True):
        terms = banned_terms(words, patterns, strict)
        started = time.perf_counter()
        for _ in range(20):
            assert not terms.found_in(prompt)
        assert (time.perf_counter() - started) / 20 < 0.02
        assert terms.found_in("and word499 phrase499 too")
