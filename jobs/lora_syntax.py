"""How a prompt names LoRAs: A1111's `<lora:name:0.8>` anywhere in the text, and `--lora name[:0.8]`.

Names are matched without regard to case (civitai's file names are camel-cased; catalog names are
kept lowercase). A weight left out is the catalog's default for that LoRA.
"""

import re

from pydantic import BaseModel, ConfigDict, Field

from jobs import limits
from jobs.values import NUMBER, BadValue, format_number

LORA_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_NAME = re.compile(LORA_NAME_PATTERN.strip("^$"))
_TAG = re.compile(r"<(?P<kind>lora|lyco):(?P<body>[^<>]*)>", re.IGNORECASE)
"""A1111's tag (and the LyCORIS extension's, which loads the same files)."""


class LoraRequest(BaseModel):
    """A LoRA a prompt asks for, and its weight if the prompt gives one."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=LORA_NAME_PATTERN)
    weight: float | None = Field(default=None, ge=-limits.LORA_WEIGHT_MAX, le=limits.LORA_WEIGHT_MAX)


def take_tags(text: str) -> tuple[str, tuple[LoraRequest, ...]]:
    """`text` without its `<lora:…>` tags (and the commas they leave dangling), and the LoRAs they name.

    Raises BadValue naming the tag that cannot be read."""
    requests = []
    for match in _TAG.finditer(text):
        name, _, rest = match["body"].partition(":")
        # A1111 also takes `<lora:name:text encoder weight:unet weight>`; here one weight is both.
        if ":" in rest:
            raise BadValue(
                f"`{match[0]}` gives two weights: give one, like `<lora:{name}:0.8>` (it applies to"
                " the whole LoRA)"
            )
        try:
            requests.append(_request(name, rest or None))
        except BadValue as error:
            raise BadValue(f"`{match[0]}` {error}") from None
    if not requests:
        return text, ()
    remaining = _TAG.sub(" ", text)
    remaining = re.sub(r"\s*,(\s*,)*", ", ", remaining)  # `a, <lora:x>, b` → `a, b`
    return " ".join(remaining.split()).strip(" ,"), tuple(requests)


def read_list(text: str) -> tuple[LoraRequest, ...]:
    """`--lora`'s value: names with optional weights, separated by spaces or commas (`ink:0.6 paper`)."""
    items = [item for item in re.split(r"[\s,]+", text) if item]
    if not items:
        raise BadValue("names no LoRA: write one, like `--lora watercolor:0.8`")
    requests = []
    for item in items:
        try:
            requests.append(_request(*_split(item)))
        except BadValue as error:
            raise BadValue(f"has `{item}`, which {error}") from None
    return tuple(requests)


def _split(item: str) -> tuple[str, str | None]:
    name, colon, weight = item.partition(":")
    return name, weight if colon else None


def _request(name: str, weight: str | None) -> LoraRequest:
    """Raises BadValue with a reason that follows what was written (`` `x:9` is too strong…``)."""
    name = name.strip().lower()
    if not _NAME.fullmatch(name):
        raise BadValue("doesn't name a LoRA: use its catalog name (letters, digits, `.`, `_` and `-`)")
    if weight is None:
        return LoraRequest(name=name)
    high = format_number(limits.LORA_WEIGHT_MAX)
    if not NUMBER.fullmatch(weight := weight.strip()):
        raise BadValue(f"has a weight I can't read: write a number, like `{name}:0.8`")
    if abs(float(weight)) > limits.LORA_WEIGHT_MAX:
        raise BadValue(f"is too strong: use a LoRA weight from -{high} to {high}")
    return LoraRequest(name=name, weight=float(weight))
