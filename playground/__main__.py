"""`python -m playground`: everything on this machine, no Discord, no GPU, no internet.

A private redis-server (unless IMAGINE_REDIS_URL names one), a worker with the default model
(the built-in shapes model, unless IMAGINE_CATALOG says otherwise), the Discord API emulator, the
real bot connected to it, and a web page that works like a Discord channel.
"""

import argparse
import asyncio
import logging
import os
import signal
import tempfile
from contextlib import ExitStack, suppress
from pathlib import Path

from aiohttp import web

from broker.local_redis import LocalRedis
from emulator import BackgroundEmulator
from playground.stack import start_bot, start_worker
from playground.web import Playground

log = logging.getLogger("playground")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="where the web page listens (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="its port; 0 picks a free one (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with ExitStack() as running, tempfile.TemporaryDirectory(prefix="imagine-playground-") as scratch:
        logs = Path(scratch)
        redis_url = (
            os.environ.get("IMAGINE_REDIS_URL") or running.enter_context(LocalRedis(logs / "redis")).url
        )
        log.info("Redis: %s", redis_url)
        discord = running.enter_context(BackgroundEmulator())
        log.info("Discord emulator: %s", discord.api_base)
        log.info("starting a worker with the default model (log: %s)", logs / "worker.log")
        running.callback(start_worker(redis_url, None, logs / "worker.log").stop)
        log.info("starting the bot (log: %s)", logs / "bot.log")
        running.callback(start_bot(discord, redis_url, logs / "bot.log").stop)
        asyncio.run(_serve(Playground(discord).app(), args.host, args.port))


async def _serve(app: web.Application, host: str, port: int) -> None:
    """Serves the page until Ctrl+C or SIGTERM; either way the caller then stops what it started."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    log.info("The playground is ready: open http://%s:%s (Ctrl+C stops it)", host, bound)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        main()
