"""What the contract needs to know about a served model, without loading it."""

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from jobs.lora_syntax import LoraRequest


class ModelProfile(BaseModel):
    """A catalog model's defaults, as the parts that never load weights (bot, CLI) see them."""

    model_config = ConfigDict(frozen=True)

    name: str
    family: str
    native_width: int = Field(gt=0)
    native_height: int = Field(gt=0)
    size_multiple: int = Field(default=64, gt=0)
    """Width and height are multiples of this (the VAE's downscale times the UNet's)."""
    steps: int = Field(gt=0)
    guidance: float = Field(ge=0)
    sampler: str
    samplers: tuple[str, ...] = Field(min_length=1)
    """The samplers the model's family can run (`--sampler`)."""
    vary_subtle: float = Field(gt=0, le=1)
    vary_strong: float = Field(gt=0, le=1)
    upscale_denoise: float = Field(gt=0, le=1)
    upscale_creative: float = Field(gt=0, le=1)
    max_pixels: int = Field(gt=0)
    """Largest width × height a job may ask for on this model."""
    draft: str | None = None
    """The catalog model `--draft` runs on instead (a fast, few-step one), if any."""
    adapter: str | None = None
    """The catalog image-prompt adapter its `--sref` and `/blend` use, if any."""
    house_style: str | None = None
    """The catalog style every prompt on it gets unless it names one or asks `--raw` (`jobs.stylize`)."""
    hd_size: tuple[int, int] | None = None
    """The width and height `--hd` draws at (then shaped by `--ar`), if the catalog names one."""


class LoraProfile(BaseModel):
    """A catalog LoRA, as the bot and the job contract see it."""

    model_config = ConfigDict(frozen=True)

    name: str
    families: tuple[str, ...] = Field(min_length=1)
    """The model families whose models it was trained for."""
    weight: float
    """Its weight when a prompt gives none."""
    triggers: tuple[str, ...] = ()
    """Words it was trained to respond to: added to a prompt that lacks them."""


class StyleProfile(BaseModel):
    """A catalog style (`--style`): prompt text around the member's and LoRAs, under one name."""

    model_config = ConfigDict(frozen=True)

    name: str
    prompt: str
    """The prompt it makes, `{prompt}` standing for the member's."""
    negative: str = ""
    """Added to the member's `--no`."""
    loras: tuple[LoraRequest, ...] = ()


class Profiles(Protocol):
    """The profiles of what a catalog serves, by name; each raises a MemberError naming what it
    serves when the name is unknown."""

    def profile(self, name: str | None = None) -> ModelProfile:
        """A model's; None for the default model's."""
        ...

    def lora_profile(self, name: str) -> LoraProfile: ...

    def style_profile(self, name: str) -> StyleProfile: ...
