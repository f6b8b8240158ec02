"""How a worker is configured: which models it serves and how it runs them. Environment: `IMAGINE_*`."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from broker.settings import BrokerSettings, CommaList, MetricsSettings
from models.settings import CatalogSettings, Offload
from worker.speedups import Speedup


def _size(value: object) -> object:
    """`768x512` (or `768X512`) as `(768, 512)`; anything but text is left to pydantic."""
    if not isinstance(value, str):
        return value
    width, _, height = value.lower().partition("x")
    if not (width.isdigit() and height.isdigit()):
        # Told as "each item must be a size written WIDTHxHEIGHT, … (`512` is not)".
        raise ValueError("use a size written WIDTHxHEIGHT, e.g. 768x512")
    return int(width), int(height)


Size = Annotated[tuple[int, int], BeforeValidator(_size)]


class WorkerSettings(BrokerSettings, CatalogSettings, MetricsSettings):
    models: CommaList[str] = Field(
        default_factory=list, description="comma-separated models to serve; the catalog's default if empty"
    )
    model_cache: Path = Field(
        default=Path.home() / ".cache" / "imagine" / "models", description="where built-in models are saved"
    )
    device: str | None = Field(default=None, description="cuda, cuda:1, cpu; the first GPU if unset")
    dtype: Literal["auto", "fp16", "bf16", "fp32"] = Field(
        default="auto",
        description="weights' precision; auto: fp16 on a GPU (bf16 for the flow families), fp32 on the CPU",
    )
    heartbeat_ttl: int = Field(
        default=30, ge=2, description="seconds before a silent worker's job is retried"
    )
    maintenance_interval: int = Field(default=30, ge=1, description="seconds between registry clean-ups")
    vae_tile_pixels: int = Field(default=1024 * 1024, gt=0, description="decode larger images in tiles")
    offload: Offload = Field(
        default="none",
        description="for a model bigger than the GPU: model (each component on the GPU only while it"
        " runs), sequential (layer by layer: least memory, slowest); none keeps it all on the GPU",
    )
    previews: int = Field(default=8, ge=0, description="progress events with a preview per job")
    loras_resident: int = Field(
        default=8,
        ge=1,
        le=256,
        description="LoRAs kept loaded per model; past it the least recently used is unloaded",
    )
    batch_jobs: int = Field(
        default=1,
        ge=1,
        le=8,
        description="most queued imagine/reroll jobs of one model, size, steps, sampler and guidance"
        " rendered in one pipeline call (1: each alone)",
    )
    speedups: CommaList[Speedup] = Field(
        default_factory=list,
        description="comma-separated: channels_last, fused_qkv, compile (bench/README.md measures each)",
    )
    warm_up_sizes: CommaList[Size] = Field(
        default_factory=list,
        description="with compile: sizes (WxH, comma-separated) to compile at start, besides the native one",
    )
