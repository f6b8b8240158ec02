"""How the bot is configured. Environment: `IMAGINE_*`."""

import socket

from pydantic import Field, SecretStr

from broker.settings import BrokerSettings, CommaList, MetricsSettings
from jobs import limits
from jobs.specs import Strength
from models.settings import CatalogSettings


class BotSettings(BrokerSettings, CatalogSettings, MetricsSettings):
    discord_token: SecretStr = Field(
        min_length=1, description="the bot token from the Discord Developer Portal; never logged"
    )
    discord_api_base: str = Field(
        default="https://discord.com/api/v10",
        description="Discord's REST base, or a proxy's, or the emulator's",
    )
    discord_gateway_url: str = Field(
        default="wss://gateway.discord.gg/", description="where to open the gateway"
    )
    dev_guild_ids: CommaList[int] = Field(
        default_factory=list, description="comma-separated guilds to sync commands to at once (development)"
    )
    consumer_name: str = Field(
        default_factory=socket.gethostname, description="this bot's name in the event stream's consumer group"
    )
    progress_interval: float = Field(default=1.5, ge=1.0, description="least seconds between progress edits")
    vary_strength: Strength = Field(
        default=Strength.SUBTLE, description="what V1–V4 do for members who have not chosen"
    )
    click_window: float = Field(default=5.0, gt=0, description="seconds a repeated click is ignored")
    cdn_origins: CommaList[str] = Field(
        default_factory=lambda: ["https://cdn.discordapp.com", "https://media.discordapp.net"],
        description="comma-separated origins that images members give are fetched from: Discord's CDN"
        " (or the emulator's)",
    )
    cdn_private_ok: bool = Field(
        default=False,
        description="whether a CDN origin may be on a private address: only for the emulator on this machine",
    )
    upload_max_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        le=limits.UPLOAD_LIMIT_BYTES,
        description="largest image a member may give, in bytes (checked before it is downloaded)",
    )
    upload_max_pixels: int = Field(
        default=40_000_000,
        ge=1_000_000,
        le=80_000_000,  # under Pillow's own bomb threshold, which `read_image` also enforces
        description="most pixels an image a member gives may have (checked before it is decoded)",
    )
