"""`--s`/`--stylize` and `--raw`: how strongly a prompt's house style applies, on one curve.

The house style is the prompt's `--style`, else its model's (`house_style` in the catalog); `--raw`
and `--style raw` leave the model's out. `--s` sets the style's strength:

| `--s` | 0 | 50 | 100 (default) | 250 | 500 | 750 | 1000 |
|---|---|---|---|---|---|---|---|
| strength | 0 (no style) | 0.5 | 1 (as the catalog wrote it) | 1.17 | 1.44 | 1.72 | 2 |

The style's own words are weighted by the strength (`(watercolor:1.44)`) and its LoRAs' weights
multiplied by it. Where no style applies, `--s` moves the guidance instead, as Midjourney's reads:
low values keep closer to the prompt (guidance up to ×1.25 at 0), high ones let the model wander
(down to ×0.75 at 1000).
"""

import re

from jobs import limits
from jobs.lora_syntax import LoraRequest
from jobs.loras import styled
from jobs.profile import ModelProfile, Profiles
from jobs.prompt import ParsedPrompt, Unused
from jobs.values import format_number

GUIDANCE_SPAN = 0.25
"""How far `--s` moves the guidance where there is no style: ×(1 ± this) at its ends."""
_EDGES = re.compile(r"^([\s,]*)(.*?)([\s,]*)$", re.S)


def strength(stylize: int) -> float:
    """The style's strength at `--s stylize`: 0 to 1 up to Midjourney's default (100), 1 to 2 beyond."""
    default, most = limits.STYLIZE_DEFAULT, limits.STYLIZE_MAX
    if stylize <= default:
        return stylize / default
    return 1 + (stylize - default) / (most - default)


def stylized_guidance(guidance: float, stylize: int) -> float:
    """`guidance` at `--s stylize` where no style applies: ×1.25 at 0, ×1 at 100, ×0.75 at 1000."""
    scaled = guidance * (1 + GUIDANCE_SPAN * (1 - strength(stylize)))
    return min(limits.GUIDANCE_MAX, max(limits.GUIDANCE_MIN, round(scaled, 2)))


def house_styled(
    parsed: ParsedPrompt, model: ModelProfile, profiles: Profiles
) -> tuple[ParsedPrompt, tuple[Unused, ...]]:
    """`parsed` with its house style applied at its `--s` strength (or, with no style, its guidance
    moved by `--s`), and what had no effect."""
    notes: list[Unused] = []
    style = parsed.style or (None if parsed.raw else model.house_style)
    if parsed.raw and model.house_style is None:
        notes.append(("--raw", f"`{model.name}` has no house style"))
    stylize = limits.STYLIZE_DEFAULT if parsed.stylize is None else parsed.stylize
    if style is not None:
        weight = strength(stylize)
        if weight == 0:  # `--s 0`: the style left out, as with `--raw`
            return parsed.model_copy(update={"style": None, "stylize": None}), tuple(notes)
        scaled = _scaled(parsed.model_copy(update={"style": style}), weight, profiles)
        return scaled.model_copy(update={"stylize": None}), tuple(notes)
    if parsed.stylize is None:
        return parsed, tuple(notes)
    written = f"--s {parsed.stylize}"
    if parsed.guidance is not None:
        notes.append((written, "`--cfg` sets the guidance"))
    elif parsed.draft:
        notes.append((written, "`--draft` runs the draft model's own guidance"))
    elif model.guidance == 0:
        notes.append((written, f"`{model.name}` runs without guidance"))
    else:
        parsed = parsed.model_copy(update={"guidance": stylized_guidance(model.guidance, stylize)})
    return parsed.model_copy(update={"stylize": None}), tuple(notes)


def _scaled(parsed: ParsedPrompt, weight: float, profiles: Profiles) -> ParsedPrompt:
    """`styled(parsed)` with the style's words weighted by `weight` and its LoRAs' weights times it."""
    style = profiles.style_profile(parsed.style or "")
    if weight == 1:
        return styled(parsed, profiles, style)
    before, after = style.prompt.split("{prompt}", 1)
    loras = tuple(
        LoraRequest(name=lora.name, weight=_lora_weight(lora, weight, profiles)) for lora in style.loras
    )
    prompt = f"{_emphasised(before, weight)}{{prompt}}{_emphasised(after, weight)}"
    return styled(parsed, profiles, style.model_copy(update={"prompt": prompt, "loras": loras}))


def _lora_weight(lora: LoraRequest, weight: float, profiles: Profiles) -> float:
    base = profiles.lora_profile(lora.name).weight if lora.weight is None else lora.weight
    return max(-limits.LORA_WEIGHT_MAX, min(limits.LORA_WEIGHT_MAX, round(base * weight, 3)))


def _emphasised(text: str, weight: float) -> str:
    """`text`'s words as one A1111 emphasis at `weight`, its edge commas and spaces kept outside."""
    lead, words, trail = _EDGES.fullmatch(text).groups()  # type: ignore[union-attr]
    if not words:
        return text
    return f"{lead}({words}:{format_number(round(weight, 2))}){trail}"
