"""How a prompt gives reference images: `--sref` and `--cref` take image links (or Midjourney's
style codes), each with an optional relative weight written as Midjourney writes it,
`--sref <link>::2 <link>::1` (spaces around `::` are allowed)."""

import re
from typing import NamedTuple

from jobs import limits
from jobs.values import NUMBER, BadValue, format_number

_JOINED = re.compile(r"\s*::\s*")
_WEIGHTED = re.compile(r"(?P<word>.+)::(?P<weight>[^:]*)")


class Reference(NamedTuple):
    """One reference a prompt gives, and its share against the others' (1 unless `::` says)."""

    word: str
    """An image link, or a Midjourney style code."""
    weight: float = 1.0

    def __str__(self) -> str:
        return self.word if self.weight == 1 else f"{self.word}::{format_number(self.weight)}"


def read_references(text: str) -> tuple[Reference, ...]:
    """`--sref`'s or `--cref`'s value: words (links may be in `<…>`), each with an optional `::weight`
    from 0 to `limits.REFERENCE_WEIGHT_MAX`; at least one weight must be more than 0."""
    words = _JOINED.sub("::", text.strip()).split()
    if len(words) > limits.IMAGE_PROMPTS_MAX:
        raise BadValue(f"names {len(words)} images: give at most {limits.IMAGE_PROMPTS_MAX}")
    references = tuple(map(_reference, words))
    if references and not any(reference.weight for reference in references):
        raise BadValue("weighs every image 0: give one a weight more than 0, like `<link>::1`")
    return references


def _reference(word: str) -> Reference:
    match = _WEIGHTED.fullmatch(word)
    if match is None:
        return Reference(_unbracketed(word))
    weight = match["weight"]
    if not NUMBER.fullmatch(weight) or not 0 <= float(weight) <= limits.REFERENCE_WEIGHT_MAX:
        raise BadValue(
            f"gives `{word}` a weight I can't read: write a number from 0 to"
            f" {format_number(limits.REFERENCE_WEIGHT_MAX)} after `::`, like `<link>::2`"
        )
    return Reference(_unbracketed(match["word"]), float(weight))


def _unbracketed(word: str) -> str:
    return word.removeprefix("<").removesuffix(">")
