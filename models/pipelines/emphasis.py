"""Text encoders read the way AUTOMATIC1111 reads them, through compel: `(word:1.3)` weights applied
to the words' token embeddings, and on CLIP a prompt longer than the encoder's 77 tokens read in
chunks of 77 (each with its own start and end tokens, split at a phrase's end where one is near)
that the denoiser's cross-attention reads side by side, so no word is left out. (T5 reads its own
long window whole, weighted the same way.)"""

import torch
from compel import EmbeddingsProvider, ReturnedEmbeddingsType, SplitLongTextMode
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from jobs.attention import Fragment, fragments, plain
from models.pipelines.base import Encoded


class WeightedReader:
    """One tokenizer and text encoder, read with A1111's weights. Made for each encoding, not kept:
    compel keeps the empty prompt's encoding it weights against, and a text-encoder LoRA switched
    on for one job would leave a kept one wrong for the next."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        text_encoder: PreTrainedModel,
        device: torch.device,
        *,
        penultimate: bool = False,
        window: int | None = None,
    ) -> None:
        """`penultimate`: the hidden states before the last layer, unnormalised (what SDXL reads).
        `window`: read that many tokens at most, padded to it (T5); else CLIP's chunks of 77."""
        self._device = device
        self._provider = EmbeddingsProvider(
            tokenizer,
            text_encoder,
            truncate=window is not None,
            model_max_length=window,
            returned_embeddings_type=(
                ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED
                if penultimate
                else ReturnedEmbeddingsType.LAST_HIDDEN_STATES_NORMALIZED
            ),
            device=device,
            split_long_text_mode=SplitLongTextMode.PHRASES,
        )

    def tokens(self, text: str) -> torch.Tensor:
        """(1, tokens, width): `text`'s tokens (every chunk of 77, or the window), weighted as written."""
        parts = fragments(text) or (Fragment(""),)  # compel reads an empty prompt from one empty fragment
        embeds = self._provider.get_embeddings_for_weighted_prompt_fragments(
            text_batch=[[part.text for part in parts]],
            fragment_weights_batch=[[part.weight for part in parts]],
            device=self._device,
        )
        return embeds.to(self._device)

    def empty_chunk(self) -> torch.Tensor:
        """(1, 77, width): an empty prompt's chunk, which pads a shorter encoding."""
        return self._provider.empty_z.to(self._device)

    def pooled(self, text: str) -> torch.Tensor:
        """(1, width): the projected end token of the first chunk of `text`'s plain words (as A1111
        pools a long prompt; weights do not reach a pooled embedding)."""
        return self._provider.get_pooled_embeddings([plain(text)], device=self._device).to(self._device)


def read(readers: list[WeightedReader], text: str, *, pooled_by: WeightedReader | None = None) -> Encoded:
    """`text` read by each of `readers`, side by side in the width (SDXL's two CLIPs), with
    `pooled_by`'s pooled embedding when the denoiser takes one."""
    sequences = [reader.tokens(text) for reader in readers]
    fillers = [reader.empty_chunk() for reader in readers]
    longest = max(sequence.shape[1] for sequence in sequences)
    sequences = [
        torch.cat([sequence, filler.repeat(1, (longest - sequence.shape[1]) // filler.shape[1], 1)], dim=1)
        for sequence, filler in zip(sequences, fillers, strict=True)
    ]
    pooled = None if pooled_by is None else pooled_by.pooled(text)
    return Encoded(torch.cat(sequences, dim=-1), pooled, filler=torch.cat(fillers, dim=-1))
