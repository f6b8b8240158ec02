"""What every pipeline family tells the worker, and the shape of an encoded prompt."""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import torch
from diffusers import AutoencoderKL, DiffusionPipeline, ModelMixin
from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class Encoded:
    """One prompt's text conditioning: the per-token embeddings, the pooled embedding for families
    whose denoiser takes one too, and for families whose encodings are as long as the prompt (the
    LLM encoders) a mask of the tokens that are the prompt's."""

    sequence: torch.Tensor
    """(1 or batch, tokens, width)."""
    pooled: torch.Tensor | None = None
    """(1 or batch, width)."""
    mask: torch.Tensor | None = None
    """(1 or batch, tokens), bool: False where shorter encodings were padded to a longer one's length."""
    filler: torch.Tensor | None = None
    """(1, chunk, width), for encodings made of fixed-length chunks (CLIP read 77 tokens at a time):
    an empty chunk's encoding, which pads a shorter encoding to a longer one's length."""

    def scaled(self, weight: float) -> "Encoded":
        return replace(
            self,
            sequence=self.sequence * weight,
            pooled=None if self.pooled is None else self.pooled * weight,
            filler=None if self.filler is None else self.filler * weight,
        )

    def __add__(self, other: "Encoded") -> "Encoded":
        """The sum of two encodings, the shorter one padded with zeros (its mask says where)."""
        first, second = _padded(self, other.length), _padded(other, self.length)
        pooled = None if first.pooled is None or second.pooled is None else first.pooled + second.pooled
        mask = None if first.mask is None else first.mask | second.mask
        filler = None if first.filler is None or second.filler is None else first.filler + second.filler
        return Encoded(first.sequence + second.sequence, pooled, mask, filler)

    @property
    def length(self) -> int:
        return self.sequence.shape[1]

    def repeated(self, batch: int) -> "Encoded":
        """The same conditioning for each of `batch` images."""
        return Encoded(
            self.sequence.repeat(batch, 1, 1),
            None if self.pooled is None else self.pooled.repeat(batch, 1),
            None if self.mask is None else self.mask.repeat(batch, 1),
            self.filler,
        )

    @staticmethod
    def stacked(encodings: Sequence["Encoded"], length: int = 0) -> "Encoded":
        """One batch of every encoding's images, in order (several jobs in one pipeline call), each
        padded to the longest one's length, or to `length` if that is longer."""
        longest = max(length, *(encoded.length for encoded in encodings))
        padded = [_padded(encoded, longest) for encoded in encodings]
        pooled = None if padded[0].pooled is None else torch.cat([encoded.pooled for encoded in padded])
        mask = None if padded[0].mask is None else torch.cat([encoded.mask for encoded in padded])
        return Encoded(torch.cat([encoded.sequence for encoded in padded]), pooled, mask, padded[0].filler)


def _padded(encoded: Encoded, length: int) -> Encoded:
    """`encoded` padded up to `length` tokens (unchanged when as long or longer): with empty chunks
    where it has a filler, else with zeros its mask leaves out."""
    missing = length - encoded.length
    if missing <= 0:
        return encoded
    if encoded.filler is not None:
        chunk = encoded.filler.shape[1]
        if missing % chunk:
            raise ValueError(f"chunked encodings differ by {missing} tokens, not whole chunks of {chunk}")
        filler = encoded.filler.to(encoded.sequence).repeat(encoded.sequence.shape[0], missing // chunk, 1)
        return replace(encoded, sequence=torch.cat([encoded.sequence, filler], dim=1))
    if encoded.mask is None:
        raise ValueError("only encodings with a mask or a filler can differ in length")
    return Encoded(
        torch.nn.functional.pad(encoded.sequence, (0, 0, 0, missing)),
        encoded.pooled,
        torch.nn.functional.pad(encoded.mask, (0, missing), value=False),
    )


@dataclass(frozen=True)
class PromptWindow:
    """The text encoder that reads the whole prompt: its tokenizer, how many tokens it reads, and
    how many of those are the family's own before the prompt's (special tokens, a chat template)."""

    tokenizer: PreTrainedTokenizerBase
    length: int
    reserved: int

    @staticmethod
    def of(tokenizer: PreTrainedTokenizerBase, longest: int | None = None) -> "PromptWindow":
        """A tokenizer's window, capped at `longest` tokens, around the special tokens it adds."""
        length = tokenizer.model_max_length if longest is None else min(longest, tokenizer.model_max_length)
        return PromptWindow(tokenizer, length, tokenizer.num_special_tokens_to_add())

    @property
    def room(self) -> int:
        """How many of the prompt's own tokens are read."""
        return self.length - self.reserved


class PipelineFamily(ABC):
    """How one family's pipelines are built, conditioned and guided."""

    text2img: ClassVar[type[DiffusionPipeline]]
    img2img: ClassVar[type[DiffusionPipeline]]
    """Built from the text-to-image pipeline's modules (`from_pipe`): one copy of the weights."""
    inpaint: ClassVar[type[DiffusionPipeline]]
    """Likewise: repaints where a mask is white and keeps the rest."""
    vae: ClassVar[type[ModelMixin]] = AutoencoderKL
    """The class of its VAE, for a catalog entry's `vae` override."""
    denoiser_file: ClassVar[type[ModelMixin] | None] = None
    """The denoiser's class where the community ships the denoiser alone in a single file in the
    original layout (FLUX's transformer): such a file loads into it, the rest from its config."""
    ships_safety_checker: ClassVar[bool] = False
    """Whether its checkpoints may carry a safety checker of their own (`models.safety`)."""
    negative_prompts: ClassVar[bool] = True
    """Whether it takes a negative prompt (`--no`)."""
    min_steps: ClassVar[int] = 1
    """The fewest steps its schedule is defined for."""
    half_precision: ClassVar[torch.dtype] = torch.float16
    """The dtype its weights run in on a GPU when the worker's `IMAGINE_DTYPE` is `auto`."""
    emphasis: ClassVar[bool] = False
    """Whether `encode` applies A1111's `(word:1.3)` weights (`jobs.attention`); a family that does
    not is given the prompt's plain words, and the result says so."""
    chunks_long_prompts: ClassVar[bool] = False
    """Whether `encode` reads a prompt longer than the text encoder's window in chunks (nothing is
    left out); else the window's end is where the prompt is cut."""

    def load_options(self) -> dict[str, Any]:
        """Keyword arguments for `from_pretrained` / `from_single_file` beyond the weights' source."""
        return {}

    def denoiser(self, pipe: DiffusionPipeline) -> torch.nn.Module:
        """The network run at every step (what speed-ups compile and `--tile` wraps)."""
        return pipe.unet

    def attention_modules(self, pipe: DiffusionPipeline) -> list[torch.nn.Module]:
        """The modules whose attention the loader sets to PyTorch's SDPA explicitly."""
        return [self.denoiser(pipe), pipe.vae]

    def prompt_window(self, pipe: DiffusionPipeline) -> PromptWindow:
        """What reads the whole prompt: what the family encodes with, and token-limit notes say."""
        return PromptWindow.of(pipe.tokenizer)

    def spatial_latents(
        self, pipe: DiffusionPipeline, latents: torch.Tensor, width: int, height: int
    ) -> torch.Tensor:
        """The denoising latents as (batch, channels, height, width), for previews."""
        return latents

    def img2img_kwargs(self, width: int, height: int) -> dict[str, Any]:
        """What the img2img pipeline needs beyond the image it starts from, `strength` and steps,
        for an output of `width` × `height`."""
        return {}

    def classifier_free(self, guidance: float) -> bool:
        """Whether a call at `guidance` runs an unconditional (negative) pass beside the prompt's."""
        return guidance > 1.0

    def guidance_kwargs(self, guidance: float) -> dict[str, Any]:
        """The pipeline call's keyword arguments for `guidance` (the classifier-free scale, or the
        distilled guidance embedding's)."""
        return {"guidance_scale": guidance}

    @abstractmethod
    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        """`text` encoded for one image, and with `with_negative` the negative prompt's (or the
        unconditional) encoding beside it. With `emphasis`, both are in A1111's syntax."""

    def call_kwargs(self, prompt: Encoded, negative: Encoded | None) -> dict[str, Any]:
        """The pipeline call's keyword arguments for these encodings (in place of `prompt`), by
        the names the diffusers pipelines share."""
        kwargs: dict[str, Any] = {"prompt_embeds": prompt.sequence}
        if prompt.pooled is not None:
            kwargs["pooled_prompt_embeds"] = prompt.pooled
        if negative is not None:
            kwargs["negative_prompt_embeds"] = negative.sequence
            if negative.pooled is not None:
                kwargs["negative_pooled_prompt_embeds"] = negative.pooled
        return kwargs


class TransformerFamily(PipelineFamily):
    """The rectified-flow transformer families (FLUX.1, SD3, FLUX.2 klein, Z-Image, Qwen-Image):
    bf16 on a GPU (their activations, and their T5 or Qwen encoders', overflow fp16), the
    transformer run at every step with its own attention processors (they apply its RoPE), and
    img2img told the output size (else the pipeline's default size, whatever the image)."""

    half_precision = torch.bfloat16

    def denoiser(self, pipe: DiffusionPipeline) -> torch.nn.Module:
        return pipe.transformer

    def attention_modules(self, pipe: DiffusionPipeline) -> list[torch.nn.Module]:
        return [pipe.vae]

    def img2img_kwargs(self, width: int, height: int) -> dict[str, Any]:
        return {"width": width, "height": height}
