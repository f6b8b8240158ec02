"""AUTOMATIC1111's emphasis syntax: `(word:1.3)`, `(word)` (×1.1), `[word]` (÷1.1), nested brackets
multiplying, and `\\(` `\\)` `\\[` `\\]` for the characters themselves.

Read the way A1111 reads it, so a prompt pasted from civitai means here what it meant there: a
bracket that is never closed weights the rest of the prompt, a closing one with nothing open is
text, and a `:` that is not followed by a weight and `)` is text.
"""

import re
from dataclasses import dataclass

from jobs import limits
from jobs.values import format_number

EMPHASIS = 1.1
"""What `(…)` multiplies a weight by, and `[…]` divides it by (A1111's factor)."""

_TOKEN = re.compile(
    r"""
    \\[()\[\]\\]                      # an escaped bracket or backslash: the character itself
    | \(                              # opens an emphasis
    | \[                              # opens a de-emphasis
    | :\s*(?P<weight>[+-]?[.\d]+)\s*\)  # `:1.3)` closes the innermost `(` with that weight
    | \)
    | \]
    | [^\\()\[\]:]+                   # plain text
    | [\\:]                           # a lone backslash or colon: text
    """,
    re.VERBOSE,
)


class EmphasisError(ValueError):
    """A weight outside what the worker applies; str() names it and says what is allowed."""


@dataclass(frozen=True)
class Fragment:
    """A run of prompt text and the weight its tokens get."""

    text: str
    weight: float = 1.0


def fragments(text: str) -> tuple[Fragment, ...]:
    """`text` as weighted runs, the brackets and escapes read; neighbours of equal weight merged.

    Raises EmphasisError for a written weight that is not a number from 0 to `limits.EMPHASIS_MAX`.
    """
    runs: list[list] = []  # [text, weight], mutable while brackets close
    rounds: list[int] = []  # where each open `(` starts in runs
    squares: list[int] = []

    def multiply(start: int, factor: float) -> None:
        for run in runs[start:]:
            run[1] *= factor

    for match in _TOKEN.finditer(text):
        token, weight = match[0], match["weight"]
        if token.startswith("\\") and len(token) == 2:
            runs.append([token[1], 1.0])
        elif token == "(":
            rounds.append(len(runs))
        elif token == "[":
            squares.append(len(runs))
        elif weight is not None and rounds:
            multiply(rounds.pop(), _weight(weight))
        elif token == ")" and rounds:
            multiply(rounds.pop(), EMPHASIS)
        elif token == "]" and squares:
            multiply(squares.pop(), 1 / EMPHASIS)
        else:
            runs.append([token, 1.0])
    for start in rounds:  # never closed: A1111 weights the rest of the prompt
        multiply(start, EMPHASIS)
    for start in squares:
        multiply(start, 1 / EMPHASIS)
    merged: list[Fragment] = []
    for run_text, run_weight in runs:
        weight = round(run_weight, 6)
        if merged and merged[-1].weight == weight:
            merged[-1] = Fragment(merged[-1].text + run_text, weight)
        else:
            merged.append(Fragment(run_text, weight))
    return tuple(fragment for fragment in merged if fragment.text)


def checked(text: str) -> str:
    """`text`, once its emphasis is known to hold only weights the worker applies (for validators)."""
    fragments(text)
    return text


def plain(text: str) -> str:
    """`text` as the words the encoder reads, without the emphasis syntax."""
    return "".join(fragment.text for fragment in fragments(text))


def emphasised(text: str) -> bool:
    """Whether any of `text` is weighted other than 1."""
    return any(fragment.weight != 1 for fragment in fragments(text))


def _weight(written: str) -> float:
    high = format_number(limits.EMPHASIS_MAX)
    try:
        weight = float(written)
    except ValueError:
        raise EmphasisError(f"`:{written})` isn't a weight: use a number from 0 to {high}") from None
    if not 0 <= weight <= limits.EMPHASIS_MAX:
        raise EmphasisError(f"`:{written})` is out of range: use a weight from 0 to {high}")
    return weight
