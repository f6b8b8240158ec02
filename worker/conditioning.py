"""Text conditioning: `::` weighted multi-prompts, `--chaos` spread and token-limit warnings."""

from dataclasses import dataclass

import torch
from diffusers import DiffusionPipeline

from jobs.prompt import PromptPart
from jobs.specs import Generation

CHAOS_SCALE = 0.5
"""At `--chaos 100`, each image's text embedding moves by half its own standard deviation."""


@dataclass(frozen=True)
class Conditioning:
    """Keyword arguments for a pipeline call that replace `prompt` and `negative_prompt`."""

    kwargs: dict[str, torch.Tensor]
    warnings: tuple[str, ...]


def condition(pipe: DiffusionPipeline, generation: Generation, batch: int, *, sdxl: bool) -> Conditioning:
    """Encodes the weighted prompt once, then repeats it (spread by chaos) for `batch` images."""
    device = pipe._execution_device
    guided = generation.guidance > 1.0
    negative = generation.negative or None
    total_weight = sum(part.weight for part in generation.prompt)
    combined: list[torch.Tensor] | None = None
    negatives: tuple[torch.Tensor | None, ...] = ()
    for index, part in enumerate(generation.prompt):
        # The negative (or unconditional) embedding is the same for every part: encode it once.
        with_negative = guided and index == 0
        if sdxl:
            embeds, neg, pooled, neg_pooled = pipe.encode_prompt(
                part.text,
                device=device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=with_negative,
                negative_prompt=negative,
            )
            encoded = [embeds, pooled]
            if with_negative:
                negatives = (neg, neg_pooled)
        else:
            embeds, neg = pipe.encode_prompt(part.text, device, 1, with_negative, negative_prompt=negative)
            encoded = [embeds]
            if with_negative:
                negatives = (neg,)
        scaled = [tensor * (part.weight / total_weight) for tensor in encoded]
        combined = scaled if combined is None else [a + b for a, b in zip(combined, scaled, strict=True)]
    assert combined is not None  # Generation.prompt has at least one part
    embeds = _spread(combined[0], batch, generation)
    kwargs = {"prompt_embeds": embeds}
    if sdxl:
        kwargs["pooled_prompt_embeds"] = combined[1].repeat(batch, 1)
    if guided:
        kwargs["negative_prompt_embeds"] = negatives[0].repeat(batch, 1, 1)
        if sdxl:
            kwargs["negative_pooled_prompt_embeds"] = negatives[1].repeat(batch, 1)
    return Conditioning(kwargs=kwargs, warnings=truncation_warnings(pipe, generation.prompt))


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


def truncation_warnings(pipe: DiffusionPipeline, prompt: tuple[PromptPart, ...]) -> tuple[str, ...]:
    """Says which words of the prompt fall beyond the text encoder's token limit: one note for the
    whole prompt, however many `::` parts run over, so the result stays one short message."""
    tokenizer = pipe.tokenizer
    room = tokenizer.model_max_length - 2  # the start and end tokens take two places
    over = []  # (part number, its token count, the end that was left out)
    for number, part in enumerate(prompt, start=1):
        ids = tokenizer(part.text, add_special_tokens=False).input_ids
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
