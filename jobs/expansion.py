"""A member's own parameters: `--name` shortcuts for sets of flags, and flags added to every prompt."""

import re
from collections.abc import Mapping

from jobs._flags import BY_NAME
from jobs.aliases import aliased, coded
from jobs.prompt import ParsedPrompt, PromptError, parse_flags, parse_prompt, with_defaults

OPTION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_OPTIONS = 25
MAX_FLAGS_CHARS = 300
"""Longest flag list one shortcut or the suffix may hold."""

_SHORTCUT = re.compile(r"(?:(?<=\s)|^)(?:--|[\N{EM DASH}\N{EN DASH}])([A-Za-z0-9][\w-]*)(?=\s|$)")


def check_option(name: str, flags: str) -> str:
    """The shortcut's name, lowercased, once `name` and `flags` are usable; PromptError says why not."""
    name = name.lower().removeprefix("--")
    if not OPTION_NAME.fullmatch(name):
        raise PromptError("Name it with letters, digits, `-` and `_` (32 at most), like `anime`")
    if name in BY_NAME:
        raise PromptError(f"`--{name}` is already a parameter: pick another name")
    check_flags(flags)
    return name


def check_flags(flags: str) -> None:
    """Raise PromptError, worded for the member, unless `flags` is a list of parameters that parses."""
    if len(flags) > MAX_FLAGS_CHARS:
        raise PromptError(f"That is {len(flags)} characters of flags: keep it to {MAX_FLAGS_CHARS}")
    if not flags.split():
        raise PromptError("Give at least one parameter, like `--ar 3:2`")
    parse_flags(flags)


def expand(text: str, options: Mapping[str, str]) -> str:
    """`text` with each `--name` of the member's shortcuts replaced by its flags (one level deep)."""
    if not options:
        return text

    def replace(match: re.Match[str]) -> str:
        return options.get(match[1].lower(), match[0])

    return _SHORTCUT.sub(replace, text)


def member_prompt(
    text: str,
    *,
    options: Mapping[str, str],
    suffix: str,
    defaults: Mapping[str, object],
    aliases: Mapping[str, str] | None = None,
    style_codes: Mapping[str, str] | None = None,
) -> ParsedPrompt:
    """Parse `text` as the member means it: shortcuts expanded, `--v`/`--niji` onto the server's
    model `aliases` and Midjourney's style codes onto its `style_codes` (`jobs.aliases`); then what
    the prompt leaves unset comes from the suffix, then from `defaults` (their settings and the
    server's)."""
    parsed = coded(aliased(parse_prompt(expand(text, options)), aliases or {}), style_codes or {})
    if suffix:
        try:
            parsed = with_defaults(parsed, parse_flags(suffix))
        except PromptError as error:
            raise PromptError(f"Your `/prefer suffix` needs a change: {error}") from None
    return with_defaults(parsed, defaults)
