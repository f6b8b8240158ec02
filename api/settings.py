"""How the API is configured. Environment: `IMAGINE_*`."""

from pydantic import Field

from broker.settings import BrokerSettings, MetricsSettings
from jobs.specs import Safety
from models.settings import CatalogSettings


class ApiSettings(BrokerSettings, CatalogSettings, MetricsSettings):
    api_host: str = Field(
        default="127.0.0.1", description="the address the API listens on (0.0.0.0 in a container)"
    )
    api_port: int = Field(default=8000, ge=1, le=65535, description="the port the API listens on")
    api_public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="the API's address as clients reach it, for image links (default: the request's own)",
    )
    api_max_body_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="largest request body, in bytes (larger: 413)"
    )
    api_max_image_pixels: int = Field(
        default=40_000_000,
        ge=1_000_000,
        le=80_000_000,  # under Pillow's own bomb threshold, which `read_image` also enforces
        description="most pixels an image sent to /v1/images/edits or /variations may have",
    )
    api_wait_seconds: float = Field(
        default=900.0, gt=0, description="how long /v1/images/* wait for the job before answering 504"
    )
    api_nsfw: Safety = Field(
        default=Safety.BLOCK,
        description="what the NSFW checker does to API jobs' images: off, block or spoiler",
    )
    api_webhook_private_ok: bool = Field(
        default=False,
        description="whether webhooks may go to private addresses (loopback, LAN): receivers on this network",
    )
    api_webhook_attempts: int = Field(
        default=8, ge=1, le=20, description="how many times a webhook is tried before it is given up"
    )
    api_webhook_backoff_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="the wait before a webhook's second try; doubled for each after",
    )
