"""Permutation prompts: `a {red, green} bird --ar {1:1, 16:9}` stands for every combination of the
options in braces (four prompts here), each then parsed as a prompt of its own.

Options are separated by commas; `\\,` is a comma inside an option, and `\\{` and `\\}` are braces
drawn as text. Braces may wrap parameter values too, but do not nest.
"""

import itertools
import math
import re
from collections.abc import Callable

from jobs import limits
from jobs.prompt import ParsedPrompt, PromptError

_TOKEN = re.compile(r"\\[,{}]|[{},]")
_SHOWN_CHARS = 80
"""Longest combination an error message repeats."""


def combinations(text: str) -> list[str]:
    """Every prompt `text` stands for, the last group's options varying fastest; `text` itself
    when it has no braces. PromptError for unbalanced or nested braces, or too many combinations."""
    if not _TOKEN.search(text):
        return [text]
    groups = _groups(text)
    count = math.prod(len(options) for options in groups)
    if count > limits.PROMPT_JOBS_MAX:
        raise _too_many(count, "use fewer `{…}` options")
    if len(groups) == 1:
        return groups[0]
    return [" ".join("".join(chosen).split()) for chosen in itertools.product(*groups)]


def _groups(text: str) -> list[list[str]]:
    """`text` as a list of option groups; text outside braces is a group of one option."""
    groups: list[list[str]] = []
    options: list[str] | None = None  # the group being read, between `{` and `}`
    buffer, at = "", 0
    for match in _TOKEN.finditer(text):
        buffer, at, token = buffer + text[at : match.start()], match.end(), match[0]
        if token.startswith("\\"):
            buffer += token[1]
        elif token == "{":
            if options is not None:
                raise PromptError(
                    "Braces can't go inside braces: write each option out, like `{red fox, blue fox}`",
                    flag="{",
                )
            groups.append([buffer])
            buffer, options = "", []
        elif token == "}":
            if options is None:
                raise PromptError("A `}` has no `{` before it: write `\\}` for a brace in the text", flag="}")
            groups.append([*options, buffer.strip()])
            buffer, options = "", None
        elif options is not None:
            options.append(buffer.strip())
            buffer = ""
        else:
            buffer += token
    if options is not None:
        raise PromptError("A `{` is never closed: end its options with `}`, like `{red, green}`", flag="{")
    groups.append([buffer + text[at:]])
    return groups


def parse_combinations(text: str, parse: Callable[[str], ParsedPrompt]) -> list[tuple[str, ParsedPrompt]]:
    """Each combination of `text` with `parse`'s reading of it. A PromptError names the combination
    that needs a change, or says how many jobs are too many (combinations times their `--repeat`)."""
    prompts = combinations(text)
    parsed: list[tuple[str, ParsedPrompt]] = []
    for prompt in prompts:
        try:
            parsed.append((prompt, parse(prompt)))
        except PromptError as error:
            if len(prompts) == 1:
                raise
            shown = prompt if len(prompt) <= _SHOWN_CHARS else prompt[: _SHOWN_CHARS - 1] + "…"
            raise PromptError(
                f"In `{shown}`, one of its combinations: {error}", flag=error.flag, value=error.value
            ) from None
    jobs = sum(prompt.repeat for _, prompt in parsed)
    if jobs > limits.PROMPT_JOBS_MAX:
        fewer = " or fewer `{…}` options" if len(prompts) > 1 else ""
        raise _too_many(jobs, f"use a smaller `--repeat`{fewer}")
    return parsed


def _too_many(jobs: int, hint: str) -> PromptError:
    return PromptError(
        f"That prompt makes {jobs} jobs; the most one prompt may make is {limits.PROMPT_JOBS_MAX}: {hint}",
        value=str(jobs),
    )
