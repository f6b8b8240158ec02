"""What every pipeline family tells the worker, and the shape of an encoded prompt."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from diffusers import DiffusionPipeline
from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class Encoded:
    """One prompt's text conditioning for one image: the per-token embeddings, and the pooled
    embedding for families whose denoiser takes one too."""

    sequence: torch.Tensor
    """(1 or batch, tokens, width)."""
    pooled: torch.Tensor | None = None
    """(1 or batch, width)."""

    def scaled(self, weight: float) -> "Encoded":
        return Encoded(self.sequence * weight, None if self.pooled is None else self.pooled * weight)

    def __add__(self, other: "Encoded") -> "Encoded":
        pooled = None if self.pooled is None or other.pooled is None else self.pooled + other.pooled
        return Encoded(self.sequence + other.sequence, pooled)

    def repeated(self, batch: int) -> "Encoded":
        """The same conditioning for each of `batch` images."""
        return Encoded(
            self.sequence.repeat(batch, 1, 1), None if self.pooled is None else self.pooled.repeat(batch, 1)
        )


@dataclass(frozen=True)
class PromptWindow:
    """The text encoder that reads the whole prompt: its tokenizer, and how many tokens (special
    ones included) the pipeline lets it read."""

    tokenizer: PreTrainedTokenizerBase
    length: int


class PipelineFamily(ABC):
    """How one family's pipelines are built, conditioned and guided."""

    text2img: ClassVar[type[DiffusionPipeline]]
    img2img: ClassVar[type[DiffusionPipeline]]
    """Built from the text-to-image pipeline's modules (`from_pipe`): one copy of the weights."""
    ships_safety_checker: ClassVar[bool] = False
    """Whether its checkpoints may carry a safety checker of their own (`models.safety`)."""
    negative_prompts: ClassVar[bool] = True
    """Whether it takes a negative prompt (`--no`)."""
    half_precision: ClassVar[torch.dtype] = torch.float16
    """The dtype its weights run in on a GPU when the worker's `IMAGINE_DTYPE` is `auto`."""

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
        return PromptWindow(pipe.tokenizer, pipe.tokenizer.model_max_length)

    def spatial_latents(
        self, pipe: DiffusionPipeline, latents: torch.Tensor, width: int, height: int
    ) -> torch.Tensor:
        """The denoising latents as (batch, channels, height, width), for previews."""
        return latents

    def img2img_size(self, width: int, height: int) -> dict[str, int]:
        """What img2img needs to be told of the output size, beyond the image it starts from."""
        return {}

    def classifier_free(self, guidance: float) -> bool:
        """Whether a call at `guidance` runs an unconditional (negative) pass beside the prompt's."""
        return guidance > 1.0

    @abstractmethod
    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        """`text` encoded for one image, and with `with_negative` the negative prompt's (or the
        unconditional) encoding beside it."""

    def call_kwargs(self, prompt: Encoded, negative: Encoded | None) -> dict[str, torch.Tensor]:
        """The pipeline call's keyword arguments for these encodings (in place of `prompt`), by
        the names the diffusers pipelines share."""
        kwargs = {"prompt_embeds": prompt.sequence}
        if prompt.pooled is not None:
            kwargs["pooled_prompt_embeds"] = prompt.pooled
        if negative is not None:
            kwargs["negative_prompt_embeds"] = negative.sequence
            if negative.pooled is not None:
                kwargs["negative_pooled_prompt_embeds"] = negative.pooled
        return kwargs
