"""Banned words and patterns, matched after folding the prompt: case, accents, compatibility forms,
look-alike letters from other scripts and invisible characters, so `CÂT`, `ｃａｔ`, `cаt` (Cyrillic
а) and `c\u200bat` (a zero-width space inside) are all `cat`.

Admins' patterns are RE2 expressions (the `re2` module): RE2 matches in linear time and compiles
within a memory budget, refusing huge or nested repeats at once, so no pattern can stall the bot
while it compiles or matches. RE2 has no look-around or back-references.
"""

import functools
import logging
import unicodedata
from collections.abc import Iterable

import re2
import regex
from confusable_homoglyphs import confusables

MAX_PATTERN_CHARS = 200
MAX_WORD_CHARS = 100
_PATTERN_MEMORY = 256 * 1024
"""RE2's budget for one admin's pattern: compiling one that needs more fails within a few ms (at
the 8 MiB default a 40-character pattern took 0.8 s), and 500 of them stay near 100 MiB."""
_WORDS_MEMORY = 64 * 1024 * 1024
"""The budget for our own alternation of a server's words: 500 of 100 characters, strict, fit."""

_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Mn}\p{Me}]+")
"""Marks left by NFKD (accents) and characters that render as nothing (zero-width spaces and
joiners, soft hyphens, variation selectors, tag characters, Hangul fillers): dropped, so they
cannot hide a word. RE2 knows no Default_Ignorable_Code_Point; `regex` does, for this fixed set."""
_SEPARATORS = regex.compile(r"[^\p{L}\p{N}\x00-\x7f]+")
"""Non-ASCII characters that are neither letters nor digits (dashes, CJK punctuation, emoji): a
space for word matching, so the words' pattern needs only the small ASCII class below."""
_GAP = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"
"""What separates words, after `_SEPARATORS`: anything but a letter or a digit (`_` too, so `_cat_`
is `cat`). RE2 builds a class of all non-letters from thousands of UTF-8 ranges: with it, 500 words
took 0.6 s to compile."""
_LEET = {
    "a": "4@",
    "b": "8",
    "e": "3",
    "g": "96",
    "i": "1!|",
    "l": "1|",
    "o": "0",
    "s": "5$",
    "t": "7+",
    "z": "2",
}
"""Strict mode: characters that stand in for a letter."""

log = logging.getLogger(__name__)


class PatternError(ValueError):
    """A banned pattern that cannot be used; the message is for the admin."""


@functools.cache
def _latin() -> dict[int, str]:
    """Each lowercase non-ASCII character that looks like ASCII letters or digits (Unicode's
    confusables, UTS #39), to those. A lowercase letter also takes its capital's look-alike (`к`
    that of `К`, `k`), so a word folds the same in either case. ASCII itself stays as typed: the
    full skeleton also maps `m` to `rn` and `1` to `l`, so a banned `burn` would refuse `bum`,
    and no one needs another script to type plain ASCII."""
    own: dict[str, str] = {}
    for char, lookalikes in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for lookalike in (entry["c"] for entry in lookalikes):
            latin = _small_capital(lookalike) or lookalike
            if latin.isascii() and latin.isalnum():
                own[char] = latin.lower()
                break
    table = {ord(char): latin for char, latin in own.items() if char.casefold() == char}
    for char, latin in own.items():
        lower = char.casefold()
        if len(lower) == 1 and not lower.isascii():
            table.setdefault(ord(lower), latin)
    return table


def _small_capital(char: str) -> str | None:
    """`t` for `ᴛ`: Unicode's prototype of Cyrillic `т` and Greek `τ` is that small capital."""
    name = unicodedata.name(char, "") if len(char) == 1 else ""
    letter = name.removeprefix("LATIN LETTER SMALL CAPITAL ")
    return letter.lower() if letter != name and len(letter) == 1 else None


def fold(text: str) -> str:
    """Lowercase, without accents, compatibility forms, look-alikes or invisible characters:
    `Ｃａｆé` → `cafe`, `сat` (Cyrillic с) → `cat`."""
    bare = _INVISIBLE.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFKC", bare).casefold().translate(_latin())


def _options(memory: int, *, any_case: bool) -> re2.Options:
    options = re2.Options()
    options.max_mem = memory
    options.case_sensitive = not any_case
    options.never_capture = True
    options.log_errors = False
    return options


def _compile(pattern: str) -> re2._Regexp:
    if not pattern.strip():
        raise PatternError("The pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"Keep a pattern to {MAX_PATTERN_CHARS} characters")
    try:
        return re2.compile(pattern, _options(_PATTERN_MEMORY, any_case=True))
    except re2.error as error:
        reason = error.args[0].decode() if isinstance(error.args[0], bytes) else str(error)
    if "repetition size" in reason:
        raise PatternError(
            f"`{pattern}` repeats too much: RE2 allows 1000 repeats at most, nested ones multiplied"
        )
    if "too large" in reason:
        raise PatternError(f"`{pattern}` is too big once compiled: use fewer or smaller repeats")
    raise PatternError(f"`{pattern}` is not a pattern I can use (RE2 syntax): {reason}")


def check_pattern(pattern: str) -> None:
    """Raise PatternError, worded for the admin, unless `pattern` is a usable RE2 expression.
    Takes a few milliseconds at most, whatever the pattern."""
    _compile(pattern)


def _letter(char: str, strict: bool) -> str:
    stand_ins = _LEET.get(char, "") if strict else ""
    return f"[{re2.escape(char + stand_ins)}]" if stand_ins else re2.escape(char)


def _word(word: str, strict: bool) -> str:
    """`bad word` joins with or without separators (`badword`, `bad-word`); strict mode also
    takes stand-ins (`b4d`) and letters spaced out all through (`b a d w o r d`, `b.a.d`)."""
    parts = word.split()
    joined = f"{_GAP}*".join("".join(_letter(char, strict) for char in part) for part in parts)
    if not strict or len("".join(parts)) < 2:
        return joined
    spaced = f"{_GAP}+".join(_letter(char, strict) for char in "".join(parts))
    return f"{joined}|{spaced}"


class BannedTerms:
    """A server's banned words (whole words or phrases) and patterns, compiled once."""

    def __init__(self, words: Iterable[str], patterns: Iterable[str], strict: bool = False) -> None:
        alternatives = [_word(fold(word), strict) for word in words if fold(word).split()]
        self._words = (
            re2.compile(
                rf"(?:^|{_GAP})(?:{'|'.join(alternatives)})(?:{_GAP}|$)",
                _options(_WORDS_MEMORY, any_case=False),
            )
            if alternatives
            else None
        )
        self._patterns = []
        self.unusable: dict[str, str] = {}
        """Patterns saved before RE2 that it refuses, with the reason: skipped, not refused with,
        so one old pattern cannot make every prompt of the server fail."""
        for pattern in patterns:
            try:
                self._patterns.append(_compile(pattern))
            except PatternError as error:
                self.unusable[pattern] = str(error)
                log.warning("banned pattern not in use: %s", error)

    def found_in(self, text: str) -> bool:
        """Whether `text` holds a banned term."""
        folded = fold(text)
        if self._words is not None and self._words.search(_SEPARATORS.sub(" ", folded)):
            return True
        return any(pattern.search(folded) for pattern in self._patterns)


@functools.lru_cache(maxsize=64)
def banned_terms(words: tuple[str, ...], patterns: tuple[str, ...], strict: bool = False) -> BannedTerms:
    """The compiled terms of one server's list, reused while the list stays the same."""
    return BannedTerms(words, patterns, strict)
