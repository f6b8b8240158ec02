"""Settings every process that talks to Redis shares, and the comma-separated list they all read."""

from typing import Annotated, TypeVar

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

T = TypeVar("T")


def _split_commas(value: object) -> object:
    """`" a, ,b "` as `["a", "b"]`: items stripped, empty ones dropped; a list is left as it is."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list set as `IMAGINE_X=a,b` (not JSON). The split comes first, then each item is validated as a
# `T`, so pydantic names the item that is wrong (`IMAGINE_X=1,abc`: `abc` is not a whole number).
CommaList = Annotated[list[T], NoDecode, BeforeValidator(_split_commas)]


class BrokerSettings(BaseSettings):
    """Where Redis is and how long what we keep there lives. Environment: `IMAGINE_*`."""

    model_config = SettingsConfigDict(env_prefix="IMAGINE_", extra="ignore")

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="the Redis every process shares (redis:// or rediss://, with a password or ACL user)",
    )
    artifact_ttl: int = Field(default=7 * 24 * 3600, gt=0, description="seconds images are kept")
    spec_ttl: int = Field(
        default=90 * 24 * 3600, gt=0, description="seconds a job's parameters are kept for follow-ups"
    )
    events_maxlen: int = Field(default=100_000, gt=0, description="approximate length of the event stream")
    job_timeout: int = Field(default=900, gt=0, description="seconds one job may run before it is stopped")
    job_retries: int = Field(default=2, ge=0, description="new attempts after a crash or a lost worker")


class MetricsSettings(BaseSettings):
    """Where a process serves its Prometheus metrics. Environment: `IMAGINE_METRICS_*`."""

    model_config = SettingsConfigDict(env_prefix="IMAGINE_", extra="ignore")

    metrics_port: int = Field(default=0, ge=0, le=65535, description="serve /metrics on this port; 0: off")
    metrics_host: str = Field(
        default="127.0.0.1", description="the address /metrics listens on (0.0.0.0 in a container)"
    )
