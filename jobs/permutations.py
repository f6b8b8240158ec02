"""Permutation prompts: `a {red, green} bird --ar {1:1, 16:9}` stands for every combination of the
options in braces (four prompts here), each then parsed as a prompt of its own.

Options are separated by commas; `\\,` is a comma inside an option, and `\\{` and `\\}` are braces
drawn as text. Braces may wrap parameter values too, and nest: `a {cat {on a mat, in a hat}, dog}`
is three prompts.
"""

import math
import re
from collections.abc import Callable

from jobs import limits
from jobs.prompt import ParsedPrompt, PromptError

_TOKEN = re.compile(r"\\[,{}]|[{},]")
_SHOWN_CHARS = 80
"""Longest combination an error message repeats."""


_Text = list["str | _Group"]
"""Prompt text read into its plain pieces and the `{…}` groups between them."""
_Group = list[_Text]
"""A group's options, each a text of its own (which may hold groups in turn)."""


def combinations(text: str) -> list[str]:
    """Every prompt `text` stands for, the last group's options varying fastest and a nested
    group's options taking its option's place; `text` itself when it has no braces. PromptError
    for unbalanced or too deeply nested braces, or too many combinations."""
    if not _TOKEN.search(text):
        return [text]
    read = _read(text)
    if all(isinstance(part, str) for part in read):
        return ["".join(read)]  # escapes only
    count = _count(read)
    if count > limits.PROMPT_JOBS_MAX:
        raise _too_many(count, "use fewer `{…}` options")
    return [" ".join(prompt.split()) for prompt in _expand(read)]


def _read(text: str) -> _Text:
    """`text` as plain pieces and groups, a group's options read the same way."""
    opened: list[tuple[_Group, _Text]] = []  # the groups being read, each with the text it is in
    current: _Text = []  # the prompt's text, or the option being read
    buffer, at = "", 0
    for match in _TOKEN.finditer(text):
        buffer, at, token = buffer + text[at : match.start()], match.end(), match[0]
        if token.startswith("\\"):
            buffer += token[1]
        elif token == "{":
            if len(opened) == limits.BRACES_DEPTH_MAX:
                raise PromptError(
                    f"Braces go at most {limits.BRACES_DEPTH_MAX} deep: write the inner options out,"
                    " like `{red fox, blue fox}`",
                    flag="{",
                )
            current.append(buffer)
            opened.append(([], current))
            buffer, current = "", []
        elif not opened and token == "}":
            raise PromptError("A `}` has no `{` before it: write `\\}` for a brace in the text", flag="}")
        elif not opened:
            buffer += token  # a comma outside braces is text
        else:
            current.append(buffer)
            group, outside = opened[-1]
            group.append(current)
            buffer, current = "", []
            if token == "}":
                opened.pop()
                outside.append(group)
                current = outside
    if opened:
        raise PromptError("A `{` is never closed: end its options with `}`, like `{red, green}`", flag="{")
    current.append(buffer + text[at:])
    return current


def _count(text: _Text) -> int:
    """How many prompts `text` stands for, without writing them out."""
    return math.prod(sum(map(_count, part)) for part in text if not isinstance(part, str))


def _expand(text: _Text) -> list[str]:
    prompts = [""]
    for part in text:
        options = [part] if isinstance(part, str) else [o.strip() for option in part for o in _expand(option)]
        prompts = [prompt + option for prompt in prompts for option in options]
    return prompts


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
