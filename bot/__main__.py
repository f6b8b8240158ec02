"""`python -m bot`: the Discord bot. Configure it with `IMAGINE_*` environment variables."""

import argparse
import logging

import discord
from redis import Redis

from bot.client import ImagineBot
from bot.endpoints import use_endpoints
from bot.settings import BotSettings
from models.catalog import load_catalog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    discord.utils.setup_logging(level=logging.getLevelNamesMapping()[args.log_level.upper()])
    settings = BotSettings()
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    bot = ImagineBot(settings, Redis.from_url(settings.redis_url), load_catalog(settings.catalog))
    bot.run(settings.discord_token.get_secret_value(), log_handler=None)


if __name__ == "__main__":
    main()
