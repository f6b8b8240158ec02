"""OpenAI's image request bodies as this API takes them: their fields, what they mean for our parser
(flags added to the prompt), and the values it refuses because it cannot honour them."""

import math
import re
from typing import Annotated, Literal

from fastapi import UploadFile
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, WithJsonSchema

from api.errors import ApiError
from api.images import OutputFormat
from jobs import limits

_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_QUALITY = {"low": 0.5, "medium": 1.0, "standard": 1.0, "auto": 1.0, "high": 2.0, "hd": 2.0}
"""OpenAI's `quality` as our `--q` (sampling steps × q)."""

_FILE = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
"""A file field, as the document says it (a missing one is left out, never null)."""

Quality = Literal["auto", "low", "medium", "high", "standard", "hd"]


class ImageOptions(BaseModel):
    """What every images endpoint takes: the model, how many images, their size, and the answer's form."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="a catalog model (default: the catalog's)")
    n: int = Field(default=1, ge=1, le=limits.GRID_IMAGES, description="images: the first n of one grid")
    size: str | None = Field(
        default=None,
        pattern=r"^(auto|\d{2,5}x\d{2,5})$",
        description="`auto` or WIDTHxHEIGHT: its aspect ratio at the model's own size",
    )
    response_format: Literal["b64_json", "url"] | None = None
    output_format: OutputFormat | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    user: str | None = Field(default=None, max_length=256, description="logged with the job")

    def refusals(self) -> dict[str, str | bool]:
        """Each field, with why its value cannot be honoured (False where it can)."""
        return {
            "output_compression": self.output_compression is not None
            and (self.output_format or "png") == "png"
            and "output_compression needs output_format webp or jpeg",
        }


class PromptedOptions(ImageOptions):
    """The fields of `generations` and `edits`: a prompt, read by our parser, and the output's form."""

    prompt: str = Field(
        min_length=1,
        max_length=limits.MAX_PROMPT_CHARS,
        description="with our parameters: `--ar 16:9 --seed 7`",
    )
    quality: Quality | None = None
    background: Literal["auto", "opaque", "transparent"] | None = None
    moderation: Literal["auto", "low"] | None = None
    stream: bool | None = None
    partial_images: int | None = Field(default=None, ge=0, le=3)

    def refusals(self) -> dict[str, str | bool]:
        return {
            "background": self.background == "transparent" and "transparent backgrounds are not drawn here",
            "moderation": self.moderation == "low" and "this server's NSFW policy applies to every job",
            "stream": bool(self.stream) and "streaming is not offered here: use /v1/jobs/{id}/events",
            "partial_images": bool(self.partial_images)
            and "partial images come as /v1/jobs/{id}/events previews",
            **super().refusals(),
        }


class GenerationRequest(PromptedOptions):
    """OpenAI's `POST /v1/images/generations` body. A field we cannot honour is refused, never
    ignored."""

    style: Literal["vivid", "natural"] | None = None

    def refusals(self) -> dict[str, str | bool]:
        style = self.style is not None and "`style` is DALL·E 3's: describe the style in the prompt"
        return {"style": style, **super().refusals()}


class EditForm(PromptedOptions):
    """OpenAI's `POST /v1/images/edits` form: with a `mask`, the image repainted where the mask is
    transparent; without, up to five images as image prompts."""

    image: list[UploadFile] = Field(
        min_length=1,
        max_length=limits.IMAGE_PROMPTS_MAX,
        validation_alias=AliasChoices("image", "image[]"),  # one image, or the client's list
        description="the image (PNG, JPEG, WebP or GIF); without a mask, up to five, as image prompts",
    )
    mask: Annotated[UploadFile | None, WithJsonSchema(_FILE)] = Field(
        default=None, description="transparent (or, without transparency, white) where to repaint"
    )
    input_fidelity: Literal["low", "high"] | None = Field(
        default=None, description="without a mask: `high` keeps closer to the images (`--iw 2`)"
    )


class VariationForm(ImageOptions):
    """OpenAI's `POST /v1/images/variations` form: new images close to one image, with no words."""

    image: UploadFile = Field(description="the image (PNG, JPEG, WebP or GIF)")


def refuse_unsupported(body: ImageOptions) -> None:
    """A 400 naming the first field whose value we cannot honour."""
    for param, refusal in body.refusals().items():
        if refusal:
            raise ApiError(400, f"`{param}`: {refusal}", param=param, code="unsupported_value")


def aspect(size: str | None) -> tuple[int, int] | None:
    """`size` (WIDTHxHEIGHT) as a reduced ratio; None for `auto` or none given."""
    if size in (None, "auto"):
        return None
    found = _SIZE.match(size)
    if not found or not all(int(side) for side in found.groups()):
        raise ApiError(400, f"`size` {size!r}: give auto or WIDTHxHEIGHT, like 1024x1536", param="size")
    width, height = (int(side) for side in found.groups())
    common = math.gcd(width, height)
    return width // common, height // common


def quality_flag(quality: Quality | None) -> list[str]:
    return [] if quality is None else [f"--q {_QUALITY[quality]:g}"]
