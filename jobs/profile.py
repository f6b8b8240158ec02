"""What the contract needs to know about a served model, without loading it."""

from pydantic import BaseModel, ConfigDict, Field


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
    max_pixels: int = Field(gt=0)
    """Largest width × height a job may ask for on this model."""
    draft: str | None = None
    """The catalog model `--draft` runs on instead (a fast, few-step one), if any."""
