"""A server's names for Midjourney's own: the model `--v 7` or `--niji 6` draws with (`/admin models
alias`), and the catalog style a Midjourney style code (`--sref 2837465`, `--p abc123`) stands for
(`/admin styles code`). Without them the default model draws and the codes are noted."""

import re
from collections.abc import Mapping

from jobs.prompt import ParsedPrompt

ALIAS_PATTERN = r"^(v[1-8](\.[0-9])?|niji[4-7]?)$"
"""`v7`, `v6.1`, `niji`, `niji6`: what `--v 7`, `--v 6.1`, `--niji` and `--niji 6` look up."""
ALIASES_MAX = 25
CODE_PATTERN = r"^[a-z0-9_-]{1,40}$"
"""A Midjourney style or personalization code, lowercased (`2837465`, `abc123`)."""
CODES_MAX = 100
_ALIAS = re.compile(ALIAS_PATTERN)
_WRITTEN = re.compile(r"--(v|version|niji)(?: (\S+))?")


class AliasError(ValueError):
    """Not a name `--v` or `--niji` can look up; str() says what is."""


def alias_name(text: str) -> str:
    """An admin's alias as stored: `V 7`, `--v 7`, `v7` and `7` are all `v7`; `--niji 6` is `niji6`."""
    name = "".join(text.lower().removeprefix("--").split()).removeprefix("version")
    name = f"v{name}" if name[:1].isdigit() else name
    if not _ALIAS.fullmatch(name):
        raise AliasError(
            f"`{text}` isn't a version Midjourney prompts ask for: use `v1` to `v8` (like `v7` or `v6.1`),"
            " `niji`, or `niji4` to `niji7`"
        )
    return name


def aliased(parsed: ParsedPrompt, aliases: Mapping[str, str]) -> ParsedPrompt:
    """`parsed` drawn with the model an alias names for its `--v` or `--niji` (that flag then needs no
    note), unless it names its model with `--model`. `--v 6.1` looks up `v6.1`, then `v6`; `--niji 6`
    looks up `niji6`, then `niji`."""
    if parsed.model is not None or not aliases:
        return parsed
    for written in parsed.unmapped:
        match = _WRITTEN.fullmatch(written)
        if match is None:
            continue
        flag, value = match.groups()
        for name in _lookups("niji" if flag == "niji" else "v", value or ""):
            if name in aliases:
                unmapped = tuple(other for other in parsed.unmapped if other != written)
                return parsed.model_copy(update={"model": aliases[name], "unmapped": unmapped})
    return parsed


def _lookups(flag: str, value: str) -> list[str]:
    if flag == "niji":
        return [f"niji{value}", "niji"] if value else ["niji"]
    return [f"v{value}", f"v{value.split('.')[0]}"]


def coded(parsed: ParsedPrompt, codes: Mapping[str, str]) -> ParsedPrompt:
    """`parsed` with the catalog style the server mapped its first mapped `--sref` or `--p` code to,
    unless it names a `--style`; that code is then taken out (and needs no note)."""
    if parsed.style is not None or not codes:
        return parsed
    for code in parsed.style_refs:
        if code.word.lower() in codes:
            refs = tuple(other for other in parsed.style_refs if other != code)
            return parsed.model_copy(update={"style": codes[code.word.lower()], "style_refs": refs})
    for written in parsed.unmapped:
        flag, _, value = written.partition(" ")
        if flag in ("--p", "--personalize") and value.lower() in codes:
            unmapped = tuple(other for other in parsed.unmapped if other != written)
            return parsed.model_copy(update={"style": codes[value.lower()], "unmapped": unmapped})
    return parsed
