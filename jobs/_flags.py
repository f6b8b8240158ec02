"""The `--flag value` parameters a prompt may end with, and how each value is read.

Each reader returns the value for `ParsedPrompt` or raises `BadValue` with the reason, worded to
follow the member's own "`--flag value`" (the parser adds that part).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from jobs import limits
from jobs.attention import EmphasisError, checked
from jobs.lanes import Lane
from jobs.lora_syntax import read_list
from jobs.references import read_references
from jobs.values import NUMBER, BadValue, format_number

_WHOLE = re.compile(r"-?[0-9]+")
_RATIO = re.compile(r"([0-9]+):([0-9]+)")
_MODEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _whole(low: int, high: int) -> Callable[[str], int]:
    allowed = f"from {format_number(low)} to {format_number(high)}"

    def read(text: str) -> int:
        if not _WHOLE.fullmatch(text):
            raise BadValue(f"isn't a whole number: use one {allowed}")
        value = int(text)
        if not low <= value <= high:
            raise BadValue(f"is out of range: use a whole number {allowed}")
        return value

    return read


def _number(low: float, high: float) -> Callable[[str], float]:
    allowed = f"from {format_number(low)} to {format_number(high)}"

    def read(text: str) -> float:
        if not NUMBER.fullmatch(text):
            raise BadValue(f"isn't a number: use one {allowed}")
        value = float(text)
        if not low <= value <= high:
            raise BadValue(f"is out of range: use a number {allowed}")
        return value

    return read


def _one_of(choices: list[str]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def _quality(text: str) -> float:
    if NUMBER.fullmatch(text) and float(text) in limits.QUALITY_CHOICES:
        return float(text)
    allowed = _one_of([format_number(q) for q in limits.QUALITY_CHOICES])
    raise BadValue(f"isn't a quality setting: use {allowed}")


def _aspect(text: str) -> tuple[int, int]:
    match = _RATIO.fullmatch(text)
    width, height = (int(match[1]), int(match[2])) if match else (0, 0)
    if not (width and height):
        raise BadValue("isn't an aspect ratio: write it as width:height in whole numbers, like `16:9`")
    if max(width, height) > limits.ASPECT_TERM_MAX:
        raise BadValue(f"uses numbers that are too large: keep each side at most {limits.ASPECT_TERM_MAX}")
    widest = format_number(limits.ASPECT_MAX_RATIO)
    allowed = f"use a ratio between 1:{widest} and {widest}:1"
    if width > limits.ASPECT_MAX_RATIO * height:
        raise BadValue(f"is too wide: {allowed}")
    if height > limits.ASPECT_MAX_RATIO * width:
        raise BadValue(f"is too tall: {allowed}")
    return width, height


def _negative(text: str) -> str:
    terms = [term.strip() for term in text.split(",")]
    negative = ", ".join(term for term in terms if term)
    if not negative:
        raise BadValue("leaves nothing out: list what to avoid, like `--no text, watermark`")
    try:
        return checked(negative)  # its `(word:1.3)` emphasis must be weights the worker applies
    except EmphasisError as error:
        raise BadValue(f"has a weight I can't use: {error}") from None


def _model(text: str) -> str:
    name = text.lower()
    if not _MODEL.fullmatch(name):
        raise BadValue("isn't a model name: use letters, digits, `.`, `_` and `-` (64 at most)")
    return name


def _style(text: str) -> str:
    name = text.lower()
    if not _MODEL.fullmatch(name):
        raise BadValue("isn't a style name: use letters, digits, `.`, `_` and `-` (64 at most)")
    return name


def _version(text: str) -> str:
    if NUMBER.fullmatch(text) and 1 <= float(text) <= limits.MIDJOURNEY_VERSION_MAX:
        return format_number(float(text))
    raise BadValue(f"isn't a Midjourney version: use one from 1 to {limits.MIDJOURNEY_VERSION_MAX:g}")


def _motion(text: str) -> str:
    if text.lower() not in ("low", "high"):
        raise BadValue("isn't a motion setting: use low or high")
    return text.lower()


def _codes(text: str) -> str:
    return " ".join(text.split())


def _link(text: str) -> str:
    return text.removeprefix("<").removesuffix(">")


def _sampler(text: str) -> str:
    name = text.lower()
    if name not in limits.SAMPLERS:
        raise BadValue(f"isn't a sampler I have: use {_one_of(list(limits.SAMPLERS))}")
    return name


@dataclass(frozen=True)
class Flag:
    """One parameter: the `ParsedPrompt` field it sets, its names and how its value is read."""

    field: str
    names: tuple[str, ...]
    """Lowercase, without the dashes; the first is the one shown in help."""
    read: Callable[[str], object] | None
    """None for a switch that takes no value (`--tile`)."""
    example: str = ""
    runs_on: bool = False
    """The value is every word up to the next flag (`--no`), not one word."""
    repeats: bool = False
    """It may be given more than once, each value adding to the others (`--lora`)."""
    optional: bool = False
    """Its value may be left out (`--niji`, `--p`)."""
    sets: object = True
    """What a switch sets its field to (`--relax`: the relax lane)."""
    noted: str | None = None
    """For a Midjourney parameter that does nothing here: why, for the note the result carries
    (`{model}` is the model that draws). Such flags are kept as written in `unmapped`."""


FLAGS = (
    Flag("aspect", ("ar", "aspect"), _aspect, "16:9"),
    Flag("seed", ("seed",), _whole(0, limits.SEED_MAX), "42"),
    Flag("negative", ("no",), _negative, "text, watermark", runs_on=True),
    Flag("steps", ("steps",), _whole(limits.STEPS_MIN, limits.STEPS_MAX), "30"),
    Flag("guidance", ("cfg", "guidance"), _number(limits.GUIDANCE_MIN, limits.GUIDANCE_MAX), "7"),
    Flag("model", ("model",), _model, "sdxl"),
    Flag("chaos", ("chaos", "c"), _whole(0, limits.CHAOS_MAX), "50"),
    Flag("quality", ("quality", "q"), _quality, ".5"),
    Flag("tile", ("tile",), None),
    Flag("sampler", ("sampler",), _sampler, "euler_a"),
    Flag("stop", ("stop",), _whole(limits.STOP_MIN, limits.STOP_MAX), "50"),
    Flag("repeat", ("repeat", "r"), _whole(1, limits.REPEAT_MAX), "4"),
    Flag("draft", ("draft",), None),
    Flag("loras", ("lora",), read_list, "watercolor:0.8", runs_on=True, repeats=True),
    Flag("style", ("style",), _style, "watercolor"),
    Flag("image_weight", ("iw",), _number(0, limits.IMAGE_WEIGHT_MAX), "1.5"),
    Flag("style_refs", ("sref",), read_references, "<image link>", runs_on=True),
    Flag("style_weight", ("sw",), _whole(0, limits.STYLE_WEIGHT_MAX), "200"),
    Flag("stylize", ("stylize", "s"), _whole(0, limits.STYLIZE_MAX), "250"),
    Flag("raw", ("raw",), None),
    Flag("weird", ("weird", "w"), _whole(0, limits.WEIRD_MAX), "250"),
    Flag("lane", ("fast",), None, sets=Lane.FAST),
    Flag("lane", ("relax",), None, sets=Lane.RELAX),
    Flag("lane", ("turbo",), None, sets=Lane.TURBO),
    Flag("size_preset", ("hd",), None, sets="hd"),
    Flag("size_preset", ("sd",), None, sets="sd"),
    Flag("character_refs", ("cref",), read_references, "<image link>", runs_on=True),
    Flag("omni_ref", ("oref",), _link, "<image link>"),
    Flag("omni_weight", ("ow",), _whole(1, limits.STYLE_WEIGHT_MAX), "100"),
)
_MODEL_DRAWS = "this server draws with `{model}`"
_MIDJOURNEY_STYLE = "it tunes Midjourney's own model"
MIDJOURNEY_ONLY = (
    Flag("unmapped", ("v", "version"), _version, "7", noted=_MODEL_DRAWS),
    Flag("unmapped", ("niji",), _whole(4, 7), "6", optional=True, noted=_MODEL_DRAWS),
    Flag("unmapped", ("test",), None, noted=_MODEL_DRAWS),
    Flag("unmapped", ("testp",), None, noted=_MODEL_DRAWS),
    Flag("unmapped", ("exp",), _whole(0, 100), "25", noted=_MIDJOURNEY_STYLE),
    Flag(
        "unmapped",
        ("p", "personalize"),
        _codes,
        "abc123",
        runs_on=True,
        optional=True,
        noted=_MIDJOURNEY_STYLE,
    ),
    Flag("unmapped", ("sv",), _whole(1, 6), "4", noted=_MIDJOURNEY_STYLE),
    Flag(
        "unmapped",
        ("cw",),
        _whole(0, 100),
        "50",
        noted="the image adapter takes a reference whole: it has no face-only setting",
    ),
    Flag("unmapped", ("stealth",), None, noted="results are posted where you asked"),
    Flag("unmapped", ("public",), None, noted="results are posted where you asked"),
    Flag("unmapped", ("video",), None, noted="this server makes still images"),
    Flag("unmapped", ("motion",), _motion, "low", noted="this server makes still images"),
    Flag("unmapped", ("loop",), None, noted="this server makes still images"),
    Flag("unmapped", ("end",), _link, "<image link>", noted="this server makes still images"),
)
"""Midjourney's parameters (V6-V8) that do nothing here: read as Midjourney reads them (a value
out of its range is refused), kept as written, and noted on the result."""
BY_NAME = {name: flag for flag in (*FLAGS, *MIDJOURNEY_ONLY) for name in flag.names}
MIDJOURNEY_STYLES = frozenset({"4a", "4b", "4c"})
"""V4's `--style 4a`-`4c`: Midjourney's own, noted; never catalog styles (`--style raw` is `--raw`)."""
_V4_STYLE = "it picks among Midjourney's own version 4 models"


def reason_for(written: str) -> str:
    """Why the Midjourney parameter `written` (`--s 250`, `--style raw`) does nothing here."""
    name = written.split()[0].removeprefix("--")
    return _V4_STYLE if name == "style" else BY_NAME[name].noted or ""
