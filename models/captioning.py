"""Load a catalog captioner and write prompts from an image with it (`/describe`).

Only the worker imports this module (it needs torch and transformers). Any image-to-text model
transformers' `AutoModelForImageTextToText` loads works: BLIP, GIT, Florence-2, and vision
encoder-decoders such as the shipped `shapes-captioner`.
"""

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Self, assert_never

import torch
from PIL import Image
from transformers import (
    AutoImageProcessor,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    PreTrainedModel,
    ProcessorMixin,
)

from models.builtins import SHIPPED_CAPTIONERS
from models.catalog import CaptionerBuiltinSource, CaptionerEntry, FolderSource, HubSource

log = logging.getLogger(__name__)

Decode = Callable[..., list[str]]
"""A tokenizer's or processor's `batch_decode`."""

MAX_CHARS = 300
"""Longest caption kept; a longer one is cut at a word."""
MAX_NEW_TOKENS = 60
"""Tokens a caption may take, for a model whose generation config sets no length of its own."""
DRAW_TEMPERATURE = 1.0
"""How evenly the captions after the first are drawn from the beams: each in proportion to its
probability to the power 1 / this (lower: the likeliest more often)."""


BEAMS_PER_CAPTION = 4
"""Beams searched per caption wanted, for the captions after the first to be drawn from."""


class CaptionerError(ValueError):
    """A captioner whose weights are missing, or that is not an image-to-text model."""


class Captioner:
    """One image-to-text model resident on one device; `describe` writes captions of an image."""

    def __init__(
        self, name: str, model: PreTrainedModel, processor: Any, decode: Decode, prompt: str | None
    ) -> None:
        self.name = name
        self.model = model
        self._processor = processor
        self._decode = decode
        self._text = {} if prompt is None else {"text": prompt}
        config = model.generation_config
        own_length = config.max_length is not None or config.max_new_tokens is not None
        self._length = {} if own_length else {"max_new_tokens": MAX_NEW_TOKENS}

    @classmethod
    def load(cls, entry: CaptionerEntry, *, device: torch.device, dtype: torch.dtype) -> Self:
        """`entry`'s model on `device` in `dtype` (see `models.loader.pick_dtype`), in eval mode.

        Raises CaptionerError, one line naming the captioner, when its files are missing or are not
        an image-to-text model transformers knows.
        """
        where, options = _location(entry)
        variant = entry.source.variant if isinstance(entry.source, HubSource) else None
        try:
            processor, decode = _processing(entry, where, options)
            model = AutoModelForImageTextToText.from_pretrained(
                where, dtype=dtype, variant=variant, **options
            )
        except (OSError, ValueError) as exc:  # missing files; a config of another kind of model
            first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise CaptionerError(f"captioner `{entry.name}` cannot be loaded from {where}: {first}") from None
        log.info("loaded captioner %s (%s) on %s as %s", entry.name, type(model).__name__, device, dtype)
        return cls(entry.name, model.to(device).eval(), processor, decode, entry.prompt)

    def describe(self, image: Image.Image, count: int, seed: int) -> list[str]:
        """Up to `count` distinct captions of `image`, the same ones for the same `seed`.

        The first is the model's own (greedy, or beam search where its generation config says so).
        The others are drawn, by `seed`, from the model's likeliest captions (a wide beam search),
        each as likely to be drawn as the model finds it: fluent ones, another set for another
        seed. Only a model with fewer than `count` captions to give yields fewer, never none: one
        that writes nothing at all raises CaptionerError.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        inputs = self._processor(images=image.convert("RGB"), return_tensors="pt", **self._text)
        inputs.pop("token_type_ids", None)  # BERT tokenizers' (GIT's, BLIP's): generate refuses them
        inputs = inputs.to(self.model.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        with torch.inference_mode():
            captions = _distinct(self._texts(self.model.generate(**inputs, **self._length, do_sample=False)))
            if count > 1:
                beams = BEAMS_PER_CAPTION * count
                searched = self.model.generate(
                    **inputs,
                    **self._length,
                    do_sample=False,
                    num_beams=beams,
                    num_return_sequences=beams,
                    length_penalty=0.0,  # scores are whole captions' log-probabilities: no rambling
                    output_scores=True,
                    return_dict_in_generate=True,
                )
                captions += _drawn(
                    self._texts(searched.sequences),
                    searched.sequences_scores,
                    count - len(captions),
                    seed,
                    captions,
                )
        if not captions:
            raise CaptionerError(f"captioner `{self.name}` wrote no caption for this image")
        return captions[:count]

    def _texts(self, ids: torch.Tensor) -> list[str]:
        return [_tidy(text) for text in self._decode(ids, skip_special_tokens=True)]


def _location(entry: CaptionerEntry) -> tuple[str | Path, dict[str, Any]]:
    """Where `entry`'s files are, and how `from_pretrained` reads them there."""
    match entry.source:
        case HubSource(repo=repo, revision=revision):
            return repo, {"revision": revision, "trust_remote_code": False}
        case FolderSource(path=path):
            folder = path
        case CaptionerBuiltinSource(name=name):
            folder = SHIPPED_CAPTIONERS[name]
        case unknown:
            assert_never(unknown)
    if not (folder / "config.json").is_file():
        raise CaptionerError(f"captioner `{entry.name}`: there is no config.json in {folder}")
    return folder, {"local_files_only": True, "trust_remote_code": False}


def _processing(entry: CaptionerEntry, where: str | Path, options: dict[str, Any]) -> tuple[Any, Decode]:
    """What turns the image (and prompt) into inputs, and ids back into text: the model's processor
    when it has one, else its image processor and tokenizer (as a vision encoder-decoder has)."""
    processor = AutoProcessor.from_pretrained(where, **options)
    if isinstance(processor, ProcessorMixin):
        return processor, processor.batch_decode
    if entry.prompt is not None:
        raise CaptionerError(
            f"captioner `{entry.name}` has a `prompt`, but its model has no processor to take one:"
            " remove `prompt`"
        )
    tokenizer = AutoTokenizer.from_pretrained(where, **options)
    return AutoImageProcessor.from_pretrained(where, **options), tokenizer.batch_decode


def _tidy(text: str) -> str:
    """One line of single spaces, cut at a word to at most MAX_CHARS."""
    text = " ".join(text.split())
    if len(text) <= MAX_CHARS:
        return text
    head = text[: MAX_CHARS + 1]
    return head.rsplit(" ", 1)[0] if " " in head else head[:MAX_CHARS]


def _drawn(texts: list[str], scores: torch.Tensor, count: int, seed: int, known: Sequence[str]) -> list[str]:
    """`count` of the distinct `texts` not in `known`, drawn by `seed` without replacement, each in
    proportion to exp(score / DRAW_TEMPERATURE); the likeliest first."""
    best: dict[str, float] = {}
    seen = {caption.lower() for caption in known}
    for text, score in zip(texts, scores.tolist(), strict=True):
        if text and text.lower() not in seen and score > best.get(text, -math.inf):
            best[text] = score
    if not best or count < 1:
        return []
    candidates = list(best)
    weights = torch.softmax(torch.tensor([best[text] for text in candidates]) / DRAW_TEMPERATURE, dim=0)
    generator = torch.Generator().manual_seed(seed)
    picked = torch.multinomial(weights, min(count, len(candidates)), replacement=False, generator=generator)
    return sorted((candidates[i] for i in picked.tolist()), key=best.__getitem__, reverse=True)


def _distinct(texts: Iterable[str], after: Sequence[str] = ()) -> list[str]:
    """`after`, then the non-empty `texts` not in it, each once (ignoring case), in their order."""
    known = {caption.lower() for caption in after}
    found = [*after]
    for text in texts:
        if text and text.lower() not in known:
            known.add(text.lower())
            found.append(text)
    return found
