"""Banned words and patterns, matched after folding case and accents, so `CÂT` is `cat`."""

import functools
import unicodedata
from collections.abc import Iterable

import regex

MAX_PATTERN_CHARS = 200
_MATCH_TIMEOUT = 0.05
"""Seconds one pattern may spend on one prompt: an admin's runaway pattern cannot stall the bot."""


class PatternError(ValueError):
    """A banned pattern that cannot be used; the message is for the admin."""


def fold(text: str) -> str:
    """Lowercase, without accents or compatibility forms: `Ｃａｆé` → `cafe`."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare).casefold()


def check_pattern(pattern: str) -> None:
    """Raise PatternError, worded for the admin, unless `pattern` is a usable regular expression."""
    if not pattern.strip():
        raise PatternError("The pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"Keep a pattern to {MAX_PATTERN_CHARS} characters")
    try:
        regex.compile(pattern)
    except regex.error as error:
        raise PatternError(f"`{pattern}` is not a regular expression I can use: {error}") from None


class BannedTerms:
    """A server's banned words (whole words or phrases) and patterns."""

    def __init__(self, words: Iterable[str], patterns: Iterable[str]) -> None:
        phrases = [r"\s+".join(regex.escape(part) for part in fold(word).split()) for word in words]
        self._words = regex.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)") if phrases else None
        self._patterns = [regex.compile(pattern, regex.IGNORECASE) for pattern in patterns]

    def found_in(self, text: str) -> bool:
        """Whether `text` holds a banned term. A pattern that runs out of time counts as a match,
        so a slow pattern refuses rather than lets through."""
        folded = fold(text)
        if self._words is not None and self._words.search(folded):
            return True
        for pattern in self._patterns:
            try:
                if pattern.search(folded, timeout=_MATCH_TIMEOUT):
                    return True
            except TimeoutError:
                return True
        return False


@functools.lru_cache(maxsize=256)
def banned_terms(words: tuple[str, ...], patterns: tuple[str, ...]) -> BannedTerms:
    """The compiled terms of one server's list, reused while the list stays the same."""
    return BannedTerms(words, patterns)
