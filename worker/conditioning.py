"""Text conditioning: `::` weighted multi-prompts, `--chaos` spread, `--weird` shift and token-limit
warnings, on
the embeddings of whichever family the model is (`models.pipelines`)."""

from dataclasses import dataclass, replace

import torch
from diffusers import DiffusionPipeline

from jobs.attention import emphasised, plain
from jobs.prompt import PromptPart
from jobs.specs import Generation
from models.pipelines import Encoded, PipelineFamily, PromptWindow

CHAOS_SCALE = 0.5
"""At `--chaos 100`, each image's text embedding moves by half its own standard deviation."""
WEIRD_SCALE = 0.5
"""At `--weird 1000`, the grid's text embedding moves by half its own standard deviation, all four
images the same way (3000, Midjourney's most, moves it 1.5 deviations)."""
_WEIRD_STREAM = 0x5EED_3E1D
"""Mixed into the seed, so the `--weird` shift is not `--chaos`'s noise for the first image."""


@dataclass(frozen=True)
class Conditioning:
    """One job's share of a pipeline call's text conditioning, in place of `prompt` and
    `negative_prompt` (the family turns it into the call's keyword arguments)."""

    prompt: Encoded
    negative: Encoded | None
    warnings: tuple[str, ...]


def condition(
    pipe: DiffusionPipeline, family: PipelineFamily, generation: Generation, batch: int
) -> Conditioning:
    """Encodes the weighted prompt once, then repeats it (spread by chaos) for `batch` images."""
    guided = family.classifier_free(generation.guidance)
    total_weight = sum(part.weight for part in generation.prompt)
    combined: Encoded | None = None
    negatives: Encoded | None = None
    read = (lambda text: text) if family.emphasis else plain
    for index, part in enumerate(generation.prompt):
        # The negative (or unconditional) embedding is the same for every part: encode it once.
        with_negative = guided and index == 0
        encoded, negative = family.encode(
            pipe, read(part.text), negative=read(generation.negative) or None, with_negative=with_negative
        )
        if with_negative:
            negatives = negative
        scaled = encoded.scaled(part.weight / total_weight)
        combined = scaled if combined is None else combined + scaled
    assert combined is not None  # Generation.prompt has at least one part
    sequence = _weird(combined.sequence, generation)
    prompt = replace(combined.repeated(batch), sequence=_spread(sequence, batch, generation))
    negative_batch = negatives.repeated(batch) if negatives is not None else None
    notes = (
        ()
        if family.chunks_long_prompts
        else truncation_warnings(family.prompt_window(pipe), generation.prompt)
    )
    if not family.emphasis and any(emphasised(text) for text in (*_texts(generation), generation.negative)):
        notes += (
            f"`(word:1.2)` weights were read as plain words: `{generation.model}`'s text encoder"
            " takes none (weight with `::` instead)",
        )
    if generation.negative and not family.negative_prompts:
        notes += (f"`--no` was left out: `{generation.model}` takes no negative prompt",)
    return Conditioning(prompt, negative_batch, notes)


def _texts(generation: Generation) -> list[str]:
    return [part.text for part in generation.prompt]


def _weird(embeds: torch.Tensor, generation: Generation) -> torch.Tensor:
    """With `--weird`, the prompt's embedding shifted along one direction seeded by the job's seed:
    the further the higher the value, the same shift for every image of the grid."""
    if generation.weird == 0:
        return embeds
    scale = WEIRD_SCALE * generation.weird / 1000 * embeds.float().std().item()
    seeded = torch.Generator().manual_seed(generation.seed ^ _WEIRD_STREAM)
    shift = torch.randn(embeds.shape[1:], generator=seeded)
    return embeds + (scale * shift).to(device=embeds.device, dtype=embeds.dtype)


def _spread(embeds: torch.Tensor, batch: int, generation: Generation) -> torch.Tensor:
    """Repeats the embedding per image; with chaos, nudges each image's copy by its own seeded noise."""
    repeated = embeds.repeat(batch, 1, 1)
    if generation.chaos == 0:
        return repeated
    scale = CHAOS_SCALE * generation.chaos / 100 * embeds.float().std().item()
    noise = torch.stack(
        [
            torch.randn(embeds.shape[1:], generator=torch.Generator().manual_seed(seed))
            for seed in generation.seeds[:batch]
        ]
    )
    return repeated + (scale * noise).to(device=embeds.device, dtype=embeds.dtype)


def truncation_warnings(window: PromptWindow, prompt: tuple[PromptPart, ...]) -> tuple[str, ...]:
    """Says which words of the prompt fall beyond the text encoder's token limit: one note for the
    whole prompt, however many `::` parts run over, so the result stays one short message."""
    tokenizer = window.tokenizer
    room = window.room  # less CLIP's start and end, T5's end, a chat template's opening
    over = []  # (part number, its token count, the end that was left out)
    for number, part in enumerate(prompt, start=1):
        ids = tokenizer(plain(part.text), add_special_tokens=False).input_ids
        if len(ids) > room:
            over.append((number, len(ids), tokenizer.decode(ids[room:]).strip()))
    if not over:
        return ()
    if len(prompt) == 1:
        [(_, length, dropped)] = over
        return (
            f"The prompt is {length} tokens long and the model reads {room}, "
            f"so this end was left out: “{_shorten(dropped)}”",
        )
    numbers = ", ".join(str(number) for number, _, _ in over)
    ends = " · ".join(f"“{_shorten(dropped, 60)}”" for _, _, dropped in over[:3])
    more = f" and {len(over) - 3} more" if len(over) > 3 else ""
    return (
        f"Parts {numbers} of the prompt are longer than the {room} tokens the model reads, "
        f"so their ends were left out: {ends}{more}",
    )


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]
