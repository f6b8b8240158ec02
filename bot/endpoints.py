"""Where discord.py connects: Discord itself, a REST proxy, or the emulator."""

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def use_endpoints(api_base: str, gateway_url: str) -> None:
    """Points every REST request (interaction webhooks included) and the gateway at these URLs.

    discord.py reads both class attributes at request and connect time and has no option of its
    own for them; after READY it reconnects to the `resume_gateway_url` the gateway hands out.
    """
    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
