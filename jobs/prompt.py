"""Midjourney-style prompts: what to draw, `::` weighted parts, then `--flag value` parameters."""

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from jobs import limits
from jobs._flags import BY_NAME, FLAGS, MIDJOURNEY_STYLES, Flag, reason_for
from jobs.attention import EmphasisError, checked, fragments
from jobs.errors import MemberError
from jobs.lanes import Lane
from jobs.lora_syntax import LoraRequest, take_tags
from jobs.references import Reference
from jobs.values import NUMBER, BadValue, format_number

# Phones turn a typed "--" into an em or en dash; one at the start of a word is taken as "--".
_PHONE_DASH = re.compile("^[\N{EM DASH}\N{EN DASH}](?=[A-Za-z])")
# "::" ends a part; a number straight after it, up to a space or the end, is that part's weight.
_SEPARATOR = re.compile(rf"::(?:({NUMBER.pattern})(?=\s|$))?")
_SURROGATE = re.compile("[\ud800-\udfff]")
# An image link, as Discord shows it or with the <…> that keeps Discord from embedding it.
_IMAGE_LINK = re.compile(r"<?(https?://[^\s<>]+)>?", re.IGNORECASE)

IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
"""Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt, Unicode 15.1), merged:
characters drawn as nothing at all (zero-width spaces and joiners, variation selectors, fillers).
`unicodedata` lacks the property; the tests compare these with the `regex` package's."""
_VISIBLE = re.compile(r"[^\s" + "".join(f"{chr(low)}-{chr(high)}" for low, high in IGNORABLE_RANGES) + "]")


class PromptError(MemberError, ValueError):
    """A prompt the parser refuses.

    str(err) is a short, friendly message for a Discord member that names the flag, the value given
    and what is allowed, e.g. "`--ar 30:1` is too wide: use a ratio between 1:4 and 4:1".
    """

    def __init__(self, message: str, *, flag: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.flag = flag
        """The flag as written, lowercased (`--c`), `::` for a multi-prompt error, else None."""
        self.value = value
        """The text the member gave for it, when there was some."""

    preface = "That prompt needs a change: "


class PromptPart(BaseModel):
    """One part of a `::` multi-prompt."""

    model_config = ConfigDict(frozen=True)

    text: Annotated[str, Field(max_length=limits.MAX_PROMPT_CHARS), AfterValidator(checked)]
    """Empty only in a `/blend` without words: the parser refuses an empty prompt."""
    weight: float = Field(default=1.0, ge=-limits.WEIGHT_MAX, le=limits.WEIGHT_MAX)


class ParsedPrompt(BaseModel):
    """A prompt as the member wrote it: unset parameters are None, for the model's defaults."""

    model_config = ConfigDict(frozen=True)

    parts: tuple[PromptPart, ...] = Field(min_length=1)
    negative: str | None = None
    aspect: tuple[int, int] | None = None
    """As written, e.g. (16, 9); not reduced."""
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    model: str | None = None
    chaos: int = 0
    quality: float = 1.0
    tile: bool = False
    sampler: str | None = None
    stop: int = Field(default=limits.STOP_MAX, ge=limits.STOP_MIN, le=limits.STOP_MAX)
    """The percentage of the denoising steps to run before decoding (`--stop`)."""
    repeat: int = Field(default=1, ge=1, le=limits.REPEAT_MAX)
    """How many grids, each its own job (`--repeat`)."""
    draft: bool = False
    """Run on the model's draft model, with that model's defaults (`--draft`)."""
    loras: tuple[LoraRequest, ...] = Field(default=(), max_length=limits.LORAS_MAX)
    """`<lora:…>` tags in the text, then `--lora`'s, in that order."""
    style: str | None = None
    """A catalog style (`--style`): its LoRAs and prompt text."""
    image_urls: tuple[str, ...] = Field(default=(), max_length=limits.IMAGE_PROMPTS_MAX)
    """Image links the prompt starts with (image prompts), in order; fetched by the bot alone."""
    image_weight: float | None = Field(default=None, ge=0, le=limits.IMAGE_WEIGHT_MAX)
    """How much the image prompts count (`--iw`); None for the default."""
    style_refs: tuple[Reference, ...] = Field(default=(), max_length=limits.IMAGE_PROMPTS_MAX)
    """`--sref`'s values: image links (style references), or Midjourney's style codes; weighted."""
    style_weight: int | None = Field(default=None, ge=0, le=limits.STYLE_WEIGHT_MAX)
    """How strongly the style references count (`--sw`); None for the default."""
    stylize: int | None = Field(default=None, ge=0, le=limits.STYLIZE_MAX)
    """How strongly the house style applies (`--s`, see `jobs.stylize`); None for the default."""
    raw: bool = False
    """Without the model's house style (`--raw`, `--style raw`)."""
    weird: int = Field(default=0, ge=0, le=limits.WEIRD_MAX)
    """How far the prompt is pushed somewhere unusual (`--w`)."""
    lane: Lane | None = None
    """The queue lane asked for (`--fast`, `--relax`, `--turbo`); None for the server's choice."""
    size_preset: Literal["hd", "sd"] | None = None
    """`--hd`: the catalog's high-resolution size for the model; `--sd`: its native size."""
    character_refs: tuple[Reference, ...] = Field(default=(), max_length=limits.IMAGE_PROMPTS_MAX)
    """`--cref`'s image links: references through the model's image adapter, as `--sref`'s."""
    omni_ref: str | None = None
    """`--oref`'s image link: a reference through the model's image adapter."""
    omni_weight: int | None = Field(default=None, ge=1, le=limits.STYLE_WEIGHT_MAX)
    """How strongly the references count (`--ow`) where `--sw` does not say."""
    unmapped: tuple[str, ...] = ()
    """Midjourney's parameters that do nothing here, as written (`--v 6.1`, `--stealth`): each noted."""

    @property
    def references(self) -> tuple[Reference, ...]:
        """`--cref`'s and `--oref`'s values, in that order."""
        return (*self.character_refs, *([Reference(self.omni_ref)] if self.omni_ref else []))

    @property
    def text(self) -> str:
        """The prompt without parameters, for display; `cat::2 dog::1` when it has weights."""
        return prompt_text(self.parts)


def prompt_text(parts: Sequence[PromptPart]) -> str:
    """Prompt parts as a member would write them: `cat::2 dog::1` when they have weights."""
    if len(parts) == 1 and parts[0].weight == 1:
        return parts[0].text
    return " ".join(f"{part.text}::{format_number(part.weight)}" for part in parts)


def parse_prompt(text: str) -> ParsedPrompt:
    """Read a member's prompt; raise PromptError, with a message for them, if it can't be used.

    Invisible characters (Unicode's default-ignorable ones) are kept where they stand, since emoji
    sequences need them, but text made only of them counts as no text.
    """
    if _SURROGATE.search(text):
        # Half of a UTF-16 pair (a pasted emoji cut in two): it cannot be stored or sent on.
        raise PromptError("Your prompt has a broken character in it: type that part again")
    length = len(" ".join(text.split()))
    if length > limits.MAX_PROMPT_CHARS:
        raise PromptError(
            f"Your prompt is {length} characters long: keep it to {limits.MAX_PROMPT_CHARS}",
            value=str(length),
        )
    words = [_PHONE_DASH.sub("--", word) for word in text.split()]
    links = _leading_links(words)
    words = words[len(links) :]
    if not any(map(_visible, words)):
        if links:
            raise PromptError("Write something to draw after the image links, like `<link> a red fox`")
        raise PromptError("Write something to draw, like `a red fox in the snow`")
    first_flag = _next_flag(words, 0)
    if not any(map(_visible, words[:first_flag])):
        raise PromptError("Write something to draw before the parameters, like `a red fox --ar 3:2`")
    try:
        text, tagged = take_tags(" ".join(words[:first_flag]))
    except BadValue as error:
        raise PromptError(str(error), flag="<lora>") from None
    if not _visible(text):
        raise PromptError("Write something to draw besides the LoRAs, like `a red fox <lora:ink:0.8>`")
    parameters = _parse_parameters(words[first_flag:])
    loras = _distinct((*tagged, *parameters.pop("loras", ())))
    return ParsedPrompt.model_validate(
        {"parts": _parse_parts(text), "loras": loras, "image_urls": links, **parameters}
    )


def is_link(word: str) -> bool:
    """Whether `word` is an image link (as image prompts and `--sref` take them)."""
    return _IMAGE_LINK.fullmatch(word) is not None


def _leading_links(words: list[str]) -> tuple[str, ...]:
    """The image links the prompt starts with (Midjourney's image prompts), at most as many as a
    prompt may use."""
    links: list[str] = []
    for word in words:
        if not (link := _IMAGE_LINK.fullmatch(word)):
            break
        links.append(link[1])
    if len(links) > limits.IMAGE_PROMPTS_MAX:
        raise PromptError(
            f"That prompt starts with {len(links)} image links: use at most {limits.IMAGE_PROMPTS_MAX}",
            flag="image",
        )
    return tuple(links)


def parse_flags(text: str) -> dict[str, object]:
    """Read parameters alone (`--ar 3:2 --q 2`), as saved in a member's preferences: field → value."""
    words = [_PHONE_DASH.sub("--", word) for word in text.split()]
    if words and not words[0].startswith("--"):
        raise PromptError(f"Start with a parameter, like `--ar 3:2`, not `{words[0]}`", value=words[0])
    return _parse_parameters(words)


def with_defaults(parsed: ParsedPrompt, defaults: Mapping[str, object]) -> ParsedPrompt:
    """`parsed` with the parameters it leaves unset taken from `defaults` (what the prompt says wins).
    LoRAs add up: those of `defaults` that the prompt does not name come after the prompt's own."""
    given = parsed.model_dump(include=parsed.model_fields_set)
    named = {lora.name for lora in parsed.loras}
    extra = [lora for lora in defaults.get("loras", ()) if LoraRequest.model_validate(lora).name not in named]
    loras = _distinct((*parsed.loras, *map(LoraRequest.model_validate, extra)))
    return ParsedPrompt.model_validate({**defaults, **given, "loras": loras})


def _distinct(loras: Sequence[LoraRequest]) -> tuple[LoraRequest, ...]:
    """`loras`, refused if one is named twice or there are more than any job may use."""
    seen: set[str] = set()
    for lora in loras:
        if lora.name in seen:
            raise PromptError(f"The LoRA `{lora.name}` is named twice: name it once", flag="--lora")
        seen.add(lora.name)
    if len(loras) > limits.LORAS_MAX:
        raise PromptError(
            f"That prompt names {len(loras)} LoRAs: use at most {limits.LORAS_MAX}", flag="--lora"
        )
    return tuple(loras)


def _parse_parts(text: str) -> tuple[PromptPart, ...]:
    parts: list[PromptPart] = []
    start = 0
    for separator in _SEPARATOR.finditer(text):
        part = text[start : separator.start()].strip()
        if not _visible(part):
            raise PromptError(
                f"`{separator[0]}` has no text before it: write something to draw in each part",
                flag="::",
                value=separator[0],
            )
        weight = float(separator[1] or 1)
        if abs(weight) > limits.WEIGHT_MAX:
            high = format_number(limits.WEIGHT_MAX)
            raise PromptError(
                f"`{separator[0]}` is too strong a weight: use one from -{high} to {high}",
                flag="::",
                value=separator[1],
            )
        parts.append(_part(part, weight))
        start = separator.end()
    if _visible(rest := text[start:].strip()):
        parts.append(_part(rest, 1.0))
    total = sum(part.weight for part in parts)
    if total <= 0:
        raise PromptError(
            f"The `::` weights add up to {format_number(total)}: they must add up to more than 0",
            flag="::",
            value=format_number(total),
        )
    return tuple(parts)


def _part(text: str, weight: float) -> PromptPart:
    try:
        fragments(text)  # its `(word:1.3)` emphasis must be weights the worker applies
    except EmphasisError as error:
        raise PromptError(str(error), flag="()") from None
    return PromptPart(text=text, weight=weight)


def _visible(text: str) -> bool:
    return _VISIBLE.search(text) is not None


def _parse_parameters(words: list[str]) -> dict[str, object]:
    """Read `--flag value` pairs; `words` starts with a flag."""
    values: dict[str, object] = {}
    given: dict[str, str] = {}  # field -> the flag name that set it
    start = 0
    while start < len(words):
        written = words[start].lower()
        flag = _find_flag(written)
        key = flag.names[0] if flag.noted else flag.field
        if key in given and not flag.repeats:
            raise PromptError(_twice(written, given[key]), flag=written)
        given[key] = written
        end = _value_end(words, start + 1, flag)
        if flag.read is None or (flag.optional and end == start + 1):
            read: object = flag.sets
        elif end == start + 1:
            raise PromptError(f"`{written}` needs a value, like `{written} {flag.example}`", flag=written)
        else:
            value = " ".join(words[start + 1 : end])
            try:
                read = flag.read(value)
            except BadValue as error:
                raise PromptError(f"`{written} {value}` {error}", flag=written, value=value) from None
        if flag.field == "style" and read == "raw":
            values["raw"] = True
        elif flag.noted or (flag.field == "style" and read in MIDJOURNEY_STYLES):
            shown = written if read is True else f"{written} {read}"
            values["unmapped"] = (*values.get("unmapped", ()), shown)
        elif flag.repeats:
            values[flag.field] = (*values.get(flag.field, ()), *read)
        else:
            values[flag.field] = read
        if (stray_end := _next_flag(words, end)) > end:
            stray = " ".join(words[end:stray_end])
            raise PromptError(
                f"`{' '.join(words[start:stray_end])}`: parameters go at the end of the prompt,"
                f" so move `{stray}` before them",
                flag=written,
                value=stray,
            )
        start = end
    return values


def _twice(written: str, before: str) -> str:
    """Why a parameter (or another setting the same thing) is refused the second time."""
    if before == written:
        return f"`{written}` is given twice: give it once"
    if _find_flag(before) is _find_flag(written):
        return f"`{written}` is given twice (`{before}` is the same parameter): give it once"
    return f"`{before}` and `{written}` both set the same thing: give one of them"


def _next_flag(words: list[str], start: int) -> int:
    return next((i for i in range(start, len(words)) if words[i].startswith("--")), len(words))


def _value_end(words: list[str], start: int, flag: Flag) -> int:
    """Where the value of `flag`, from `words[start]`, ends: one word, none, or up to the next flag."""
    if flag.runs_on:
        return _next_flag(words, start)
    has_value = flag.read is not None and start < len(words) and not words[start].startswith("--")
    return start + has_value


def _find_flag(written: str) -> Flag:
    name = written.removeprefix("--")
    if name in BY_NAME:
        return BY_NAME[name]
    close = difflib.get_close_matches(name, BY_NAME, n=1)
    hint = (
        f"Did you mean `--{close[0]}`?"
        if close
        else "I know " + ", ".join(f"`--{flag.names[0]}`" for flag in FLAGS) + "."
    )
    raise PromptError(f"`{written}` isn't a parameter I know. {hint}", flag=written)


Unused = tuple[str, str]
"""A parameter as written (`--iw`, `--s 250`) that does nothing here, and why."""


def unused_note(parsed: ParsedPrompt, model: str, unused: Sequence[Unused] = ()) -> str | None:
    """One line naming the prompt's Midjourney parameters that do nothing here, and the `unused`
    ones the resolver found, grouped by reason: "`--v 6.1`, `--niji 6` have no effect here: this
    server draws with `sdxl`", or "No effect here: `--v 6.1` (this server draws with `sdxl`);
    `--iw` (the prompt has no image)"."""
    named = [(written, reason_for(written).format(model=model)) for written in parsed.unmapped]
    reasons: dict[str, list[str]] = {}
    for written, reason in (*named, *unused):
        reasons.setdefault(reason, []).append(f"`{written}`")
    if not reasons:
        return None
    if len(reasons) == 1:
        ((reason, flags),) = reasons.items()
        line = f"{', '.join(flags)} {'has' if len(flags) == 1 else 'have'} no effect here: {reason}"
    else:
        line = "No effect here: " + "; ".join(
            f"{', '.join(flags)} ({reason})" for reason, flags in reasons.items()
        )
    if len(line) > limits.MAX_WARNING_CHARS:  # too many to say why each: name them
        line = f"No effect here: {', '.join(f'`{written}`' for written, _ in (*named, *unused))}"
        if len(line) > limits.MAX_WARNING_CHARS:
            line = line[: limits.MAX_WARNING_CHARS - 1].rsplit(", ", 1)[0] + " …"
    return line
