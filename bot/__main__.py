"""`python -m bot`: the Discord bot. Configure it with `IMAGINE_*` environment variables."""

import argparse
import logging

import discord
from redis import Redis

from bot.client import ImagineBot
from bot.endpoints import use_endpoints
from bot.metrics import BotMetrics
from bot.settings import BotSettings
from broker.logs import log_handler
from broker.metrics import QueueDepthCollector, new_registry, serve
from models.catalog import load_catalog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    handler = log_handler()
    discord.utils.setup_logging(
        handler=handler,
        formatter=handler.formatter,
        level=logging.getLevelNamesMapping()[args.log_level.upper()],
    )
    settings = BotSettings()
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    redis = Redis.from_url(settings.redis_url)
    catalog = load_catalog(settings.catalog)
    registry = new_registry()
    registry.register(QueueDepthCollector(redis, catalog.names))
    serve(registry, settings)
    bot = ImagineBot(settings, redis, catalog, metrics=BotMetrics(registry))
    bot.run(settings.discord_token.get_secret_value(), log_handler=None)


if __name__ == "__main__":
    main()
