"""How the bot is configured. Environment: `IMAGINE_*`."""

import socket
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from broker.settings import BrokerSettings, MetricsSettings
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
    dev_guild_ids: Annotated[list[int], NoDecode] = Field(
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

    @field_validator("dev_guild_ids", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            # pydantic turns each into an int, and names the one that is not a number.
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
