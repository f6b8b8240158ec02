"""How the bot is configured. Environment: `IMAGINE_*`."""

import socket

from pydantic import Field, SecretStr

from broker.settings import BrokerSettings, CommaList, MetricsSettings
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
