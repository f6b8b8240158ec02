"""Stable Diffusion 3 and 3.5: a rectified-flow transformer (MMDiT) on two CLIP encoders' and T5's
token embeddings side by side plus both CLIPs' pooled embeddings, with classifier-free guidance."""

from diffusers import (
    DiffusionPipeline,
    StableDiffusion3Img2ImgPipeline,
    StableDiffusion3InpaintPipeline,
    StableDiffusion3Pipeline,
)

from models.pipelines.base import Encoded, PromptWindow, TransformerFamily

_LONGEST_T5_PROMPT = 256
"""Tokens T5 reads in SD3's pipelines by default (what the models were trained with)."""


class StableDiffusion3(TransformerFamily):
    text2img = StableDiffusion3Pipeline
    img2img = StableDiffusion3Img2ImgPipeline
    inpaint = StableDiffusion3InpaintPipeline

    def prompt_window(self, pipe: DiffusionPipeline) -> PromptWindow:
        # T5 reads the whole prompt; without it (SD3 runs without its third encoder) CLIP does.
        if pipe.text_encoder_3 is None:
            return super().prompt_window(pipe)
        return PromptWindow.of(pipe.tokenizer_3, _LONGEST_T5_PROMPT)

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
            max_sequence_length=self.prompt_window(pipe).length,
        )
        return Encoded(embeds, pooled), Encoded(negative_embeds, negative_pooled) if with_negative else None
