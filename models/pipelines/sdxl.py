"""SDXL and SDXL-Turbo: a UNet on two CLIP text encoders' token embeddings, plus the second
encoder's pooled embedding."""

from diffusers import (
    DiffusionPipeline,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)

from models.pipelines.base import Encoded, PipelineFamily


class StableDiffusionXL(PipelineFamily):
    text2img = StableDiffusionXLPipeline
    img2img = StableDiffusionXLImg2ImgPipeline
    inpaint = StableDiffusionXLInpaintPipeline

    def encode(
        self, pipe: DiffusionPipeline, text: str, *, negative: str | None, with_negative: bool
    ) -> tuple[Encoded, Encoded | None]:
        embeds, negative_embeds, pooled, negative_pooled = pipe.encode_prompt(
            text,
            device=pipe._execution_device,
            num_images_per_prompt=1,
            do_classifier_free_guidance=with_negative,
            negative_prompt=negative,
        )
        return Encoded(embeds, pooled), Encoded(negative_embeds, negative_pooled) if with_negative else None
