"""`imagine-api`: the HTTP API. Configure it with `IMAGINE_*` environment variables."""

import argparse
import logging

import uvicorn
from redis import Redis

from api.app import create_app
from api.settings import ApiSettings
from broker import startup
from broker.logs import log_handler
from broker.metrics import QueueDepthCollector, new_registry, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="imagine-api", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.getLevelNamesMapping()[args.log_level.upper()], handlers=[log_handler()]
    )
    with startup.reported():
        settings = startup.settings(ApiSettings)
        catalog = startup.catalog(settings.catalog)
        startup.redis_answers(settings.redis_url)
    redis = Redis.from_url(settings.redis_url)
    registry = new_registry()
    registry.register(QueueDepthCollector(redis, catalog.names))
    serve(registry, settings)
    app = create_app(settings, catalog, redis, registry)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
