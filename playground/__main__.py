"""`imagine-playground`: everything on this machine, no Discord, no GPU, no internet.

A private redis-server (unless IMAGINE_REDIS_URL names one), a worker with the default model
(the built-in shapes model, unless IMAGINE_CATALOG says otherwise), the Discord API emulator, the
real bot connected to it, a web page that works like a Discord channel, and the HTTP API with a key
for local use. `python -m playground` runs it too, but imports from the current directory first.
"""

import argparse
import asyncio
import logging
import os
import signal
import socket
import tempfile
from contextlib import ExitStack, suppress
from pathlib import Path

from aiohttp import web
from redis import Redis

from api.keys import KeyLimits, KeyStore
from broker import startup
from broker.local_redis import LocalRedis, free_port
from broker.settings import BrokerSettings
from emulator import BackgroundEmulator
from models.catalog import load_catalog
from models.settings import CatalogSettings
from playground.stack import StartupError, start_api, start_bot, start_worker
from playground.web import Playground

log = logging.getLogger("playground")

API_PORT = 8000
"""The API's port unless it is taken (by a compose stack's API, say) or another is asked for."""


def main(argv: list[str] | None = None) -> None:
    """The `imagine-playground` script: Ctrl+C stops it without a traceback."""
    with suppress(KeyboardInterrupt):
        _run(argv)


def _run(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(prog="imagine-playground", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="where the web page listens (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="its port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--api-port",
        type=int,
        help=f"the HTTP API's port on 127.0.0.1; 0 picks a free one (default: {API_PORT}, unless taken)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with startup.reported():
        configured, catalog = _checked()
    # The worker and the bot get only what is named here (stack.settings_env drops the rest). The
    # embedded catalog's models are small enough to serve them all (`--model tiny-flux`); of an
    # operator's catalog, the worker serves the default.
    chosen = {"catalog": str(catalog)} if catalog else {"models": ",".join(load_catalog().names)}
    with ExitStack() as running, tempfile.TemporaryDirectory(prefix="imagine-playground-") as scratch:
        logs = Path(scratch)
        redis_url = configured or running.enter_context(LocalRedis(logs / "redis")).url
        log.info("Redis: %s", startup.mask_url(redis_url))
        discord = running.enter_context(BackgroundEmulator())
        log.info("Discord emulator: %s", discord.api_base)
        try:
            served = chosen.get("models", "the default model")
            log.info("starting a worker serving %s (log: %s)", served, logs / "worker.log")
            running.callback(start_worker(redis_url, None, logs / "worker.log", **chosen).stop)
            log.info("starting the bot (log: %s)", logs / "bot.log")
            running.callback(start_bot(discord, redis_url, logs / "bot.log", **chosen).stop)
            api_port = _api_port(args.api_port)
            log.info("starting the HTTP API (log: %s)", logs / "api.log")
            api_settings = {"catalog": str(catalog)} if catalog else {}
            running.callback(start_api(redis_url, logs / "api.log", api_port, **api_settings).stop)
        except StartupError as error:  # its message holds the process's own output
            log.error("%s", error)
            raise SystemExit(1) from None
        _announce_api(f"http://127.0.0.1:{api_port}", redis_url, load_catalog(catalog).default)
        asyncio.run(_serve(Playground(discord).app(), args.host, args.port))


def _checked() -> tuple[str | None, Path | None]:
    """The Redis to use (None: start one) and the catalog, once both are known to be right."""
    configured = None
    if "IMAGINE_REDIS_URL" in os.environ:
        configured = startup.settings(BrokerSettings).redis_url
        startup.redis_answers(configured)
    catalog = startup.settings(CatalogSettings).catalog
    startup.catalog(catalog)
    return configured, catalog


def _api_port(asked: int | None) -> int:
    """The port asked for; 0, or none asked and the default taken: a free one."""
    if asked is None:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", API_PORT))
                return API_PORT
            except OSError:
                log.info("port %s is taken: the HTTP API gets a free one", API_PORT)
    return asked or free_port()


def _announce_api(base: str, redis_url: str, model: str) -> None:
    """Makes a key for local use (a new one each start: only its hash is kept) and says how to use it."""
    _, key = KeyStore(Redis.from_url(redis_url)).create("playground", KeyLimits())
    log.info("HTTP API (OpenAI-compatible): %s/v1 (docs: %s/docs)", base, base)
    log.info("its key for local use: %s", key)
    snippet = (
        f'import base64; from openai import OpenAI; r = OpenAI(base_url="{base}/v1", api_key="{key}")'
        f'.images.generate(model="{model}", prompt="a red circle on a blue background",'
        ' response_format="b64_json"); open("image.png", "wb").write(base64.b64decode(r.data[0].b64_json))'
    )
    log.info("  python -c '%s'", snippet)


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
    main()
