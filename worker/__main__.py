"""`python -m worker`: a GPU worker that serves the configured models from the shared Redis."""

import argparse
import logging

from redis import Redis

from broker.logs import log_handler
from broker.metrics import QueueDepthCollector, new_registry, serve
from broker.settings import BrokerSettings
from worker.boot import load_engines, prepare
from worker.metrics import worker_metrics
from worker.settings import WorkerSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--models", help="comma-separated models to serve (overrides IMAGINE_MODELS)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, handlers=[log_handler()])

    broker = BrokerSettings()
    settings = WorkerSettings(**({"models": args.models} if args.models else {}))
    engines = load_engines(settings)
    redis = Redis.from_url(broker.redis_url)
    registry = new_registry()
    metrics = worker_metrics(registry, engines)
    registry.register(QueueDepthCollector(redis, list(engines)))
    serve(registry, settings)
    worker = prepare(redis, broker, settings, engines, metrics=metrics)
    worker.work(burst=args.burst, logging_level=args.log_level)


if __name__ == "__main__":
    main()
