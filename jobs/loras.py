"""A prompt's `--style` and LoRAs resolved against the catalog: the style's text around the
member's, each LoRA checked against the model's family and given its weight, and the trigger
words a LoRA needs added where the prompt lacks them."""

from pydantic import ValidationError

from jobs import limits
from jobs.lora_syntax import LoraRequest
from jobs.profile import ModelProfile, Profiles, StyleProfile
from jobs.prompt import ParsedPrompt, PromptError, PromptPart
from jobs.specs import LoraUse


def styled(parsed: ParsedPrompt, profiles: Profiles, style: StyleProfile | None = None) -> ParsedPrompt:
    """`parsed` with its `--style` (or `style`, that style as `jobs.stylize` weighted it) applied:
    each `::` part set in the style's prompt, the style's negative added to `--no`, and its LoRAs
    added after the prompt's own (a LoRA the prompt names keeps the prompt's weight)."""
    if parsed.style is None:
        return parsed
    style = style or profiles.style_profile(parsed.style)
    named = {lora.name for lora in parsed.loras}
    loras = (*parsed.loras, *(lora for lora in style.loras if lora.name not in named))
    if len(loras) > limits.LORAS_MAX:
        raise PromptError(
            f"With the style `{style.name}` the prompt uses {len(loras)} LoRAs:"
            f" use at most {limits.LORAS_MAX}",
            flag="--style",
        )
    negative = ", ".join(text for text in (parsed.negative, style.negative) if text) or None
    try:
        parts = tuple(
            PromptPart(text=style.prompt.replace("{prompt}", part.text), weight=part.weight)
            for part in parsed.parts
        )
        return ParsedPrompt.model_validate(
            {**dict(parsed), "parts": parts, "negative": negative, "loras": loras, "style": None}
        )
    except ValidationError:
        raise PromptError(
            f"With the style `{style.name}` the prompt is too long: shorten it", flag="--style"
        ) from None


def with_loras(
    parsed: ParsedPrompt, model: ModelProfile, profiles: Profiles
) -> tuple[ParsedPrompt, tuple[LoraUse, ...], tuple[str, ...]]:
    """The LoRAs `parsed` asks for on `model`, with their weights, and `parsed` with their trigger
    words added to its last part where it lacks them (with a note saying so).

    Raises a MemberError naming a LoRA the catalog lacks or one made for another family."""
    uses, missing = [], []
    text = " ".join(part.text for part in parsed.parts).lower()
    for request in parsed.loras:
        lora = profiles.lora_profile(request.name)
        if model.family not in lora.families:
            raise PromptError(
                f"The LoRA `{lora.name}` is made for {_families(lora.families)} models, and `{model.name}`"
                f" is a {model.family} model: leave it out, or pick a model with `--model`",
                flag="--lora",
                value=lora.name,
            )
        uses.append(LoraUse(name=lora.name, weight=_weight(request, lora.weight)))
        missing += [(lora.name, word) for word in lora.triggers if word.lower() not in text]
    if not missing:
        return parsed, tuple(uses), ()
    words = ", ".join(dict.fromkeys(word for _, word in missing))
    *before, last = parsed.parts
    try:
        parts = (*before, PromptPart(text=f"{last.text}, {words}", weight=last.weight))
    except ValidationError:
        raise PromptError(f"With the trigger words “{words}” the prompt is too long: shorten it") from None
    for_whom = ", ".join(f"`{name}`" for name in dict.fromkeys(name for name, _ in missing))
    note = f"Added “{words}” to the prompt: the trigger words of {for_whom}"
    return parsed.model_copy(update={"parts": parts}), tuple(uses), (note,)


def _weight(request: LoraRequest, default: float) -> float:
    return default if request.weight is None else request.weight


def _families(families: tuple[str, ...]) -> str:
    return " or ".join(f"`{family}`" for family in families)
