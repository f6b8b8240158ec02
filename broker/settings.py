"""Settings every process that talks to Redis shares."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
