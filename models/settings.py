"""Where the model catalog is: shared by the workers and everything that validates `--model`."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    """Which model catalog the process reads. Environment: `IMAGINE_CATALOG`."""

    model_config = SettingsConfigDict(env_prefix="IMAGINE_", extra="ignore")

    catalog: Path | None = Field(default=None, description="model catalog TOML; the embedded one if unset")


Offload = Literal["none", "model", "sequential"]
"""Where a model's weights wait while not running (`IMAGINE_OFFLOAD`): on the GPU (none), or in main
memory, moved to the GPU a component at a time (model) or a layer at a time (sequential)."""
