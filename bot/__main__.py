"""`imagine-bot`: the Discord bot. Configure it with `IMAGINE_*` environment variables."""

import argparse
import logging

import discord
from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from bot.client import ImagineBot
from bot.endpoints import use_endpoints
from bot.metrics import BotMetrics
from bot.settings import BotSettings
from broker import startup
from broker.logs import log_handler
from broker.metrics import QueueDepthCollector, new_registry, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="imagine-bot", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    handler = log_handler()
    discord.utils.setup_logging(
        handler=handler,
        formatter=handler.formatter,
        level=logging.getLevelNamesMapping()[args.log_level.upper()],
    )
    with startup.reported():  # before Discord: a mistake is one line, not a reconnect loop
        settings = startup.settings(BotSettings)
        catalog = startup.catalog(settings.catalog)
        startup.redis_answers(settings.redis_url)
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    # An interaction is answered within 3 s or it fails: a Redis that is down or stalled must fail a
    # request in about a second (the member is told to try again), not after redis-py's ten retries.
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=1.0,
        socket_timeout=2.0,  # above the event consumer's 1 s blocking read
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
    )
    registry = new_registry()
    registry.register(QueueDepthCollector(redis, catalog.names))
    serve(registry, settings)
    bot = ImagineBot(settings, redis, catalog, metrics=BotMetrics(registry))
    bot.run(settings.discord_token.get_secret_value(), log_handler=None)
    # run() returns after a stop; a supervisor restarts the bot only if it says it failed.
    raise SystemExit(1 if bot.failed else 0)


if __name__ == "__main__":
    main()
