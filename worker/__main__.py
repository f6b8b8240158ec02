"""`imagine-worker`: a GPU worker that serves the configured models from the shared Redis."""

import argparse
import logging

from redis import Redis

from broker import startup
from broker.logs import log_handler
from broker.metrics import QueueDepthCollector, new_registry, serve
from models.catalog import UnknownModelError
from worker.settings import WorkerSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="imagine-worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--models", help="comma-separated models to serve (overrides IMAGINE_MODELS)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, handlers=[log_handler()])
    with startup.reported():
        settings = _checked(args.models)
    # Imported only now: torch and diffusers take seconds, and a mistake is told before them.
    from worker import outages
    from worker.boot import load_engines, prepare
    from worker.metrics import worker_metrics

    with startup.reported():
        engines = load_engines(settings)
    redis = Redis.from_url(settings.redis_url)
    # Redis answered before the models loaded; an outage since (a restart) is waited out, not a
    # reason to throw the loaded models away.
    outages.wait_for_redis(redis)
    registry = new_registry()
    metrics = worker_metrics(registry, engines)
    registry.register(QueueDepthCollector(redis, list(engines)))
    serve(registry, settings)
    worker = prepare(redis, settings, settings, engines, metrics=metrics)
    worker.work(burst=args.burst, logging_level=args.log_level)


def _checked(models: str | None) -> WorkerSettings:
    """The settings, once they, the catalog and every model named in it are right and Redis answers."""
    settings = startup.settings(WorkerSettings, **({"models": models} if models else {}))
    catalog = startup.catalog(settings.catalog)
    for name in settings.models:
        try:
            catalog.get(name)
        except UnknownModelError as error:
            given = f"--models {models}" if models else f"IMAGINE_MODELS={','.join(settings.models)}"
            raise startup.StartupError(f"{given} is not allowed: {error}") from None
    startup.redis_answers(settings.redis_url)
    return settings


if __name__ == "__main__":
    main()
