"""Stable Diffusion 3 and 3.5: a rectified-flow transformer (MMDiT) on two CLIP encoders' and T5's
token embeddings side by side plus both CLIPs' pooled embeddings, with classifier-free guidance."""

import torch
from diffusers import DiffusionPipeline, StableDiffusion3Img2ImgPipeline, StableDiffusion3Pipeline
from transformers import PreTrainedTokenizerBase

from models.pipelines.base import Encoded, PipelineFamily

_LONGEST_T5_PROMPT = 256
"""Tokens T5 reads in SD3's pipelines by default (what the models were trained with)."""


class StableDiffusion3(PipelineFamily):
    text2img = StableDiffusion3Pipeline
    img2img = StableDiffusion3Img2ImgPipeline
    half_precision = torch.bfloat16  # what Stability runs SD3.5 in; its T5 overflows fp16

    def denoiser(self, pipe: DiffusionPipeline) -> torch.nn.Module:
        return pipe.transformer

    def attention_modules(self, pipe: DiffusionPipeline) -> list[torch.nn.Module]:
        return [pipe.vae]  # the transformer keeps its joint-attention (SDPA) processors

    def prompt_tokenizer(self, pipe: DiffusionPipeline) -> PreTrainedTokenizerBase:
        # T5 reads the whole prompt; without it (SD3 runs without its third encoder) CLIP does.
        return pipe.tokenizer_3 if pipe.text_encoder_3 is not None else pipe.tokenizer

    def img2img_size(self, width: int, height: int) -> dict[str, int]:
        return {"width": width, "height": height}  # else the model's default size

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        embeds, negative_embeds, pooled, negative_pooled = pipe.encode_prompt(
            prompt=text,
            prompt_2=None,
            prompt_3=None,
            device=pipe._execution_device,
            num_images_per_prompt=1,
            do_classifier_free_guidance=with_negative,
            negative_prompt=negative,
            max_sequence_length=min(_LONGEST_T5_PROMPT, self.prompt_tokenizer(pipe).model_max_length),
        )
        return Encoded(embeds, pooled), Encoded(negative_embeds, negative_pooled) if with_negative else None
