"""Downloads of members' images against a real HTTP server on this machine: what is fetched, what
is refused before any request or any byte of the body, and what a failed download tells them."""

import asyncio
import gzip
import io
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from PIL import Image

from bot.requests.fetch import FetchError, FetchRules, ImageFetcher
from broker import addresses
from broker.uploads import UploadError
from jobs.errors import MemberError

MB = 2**20
LIMIT = 4096 * 4096
RED = (255, 0, 0)


def _png(size: tuple[int, int] = (16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, RED).save(buffer, format="PNG")
    return buffer.getvalue()


def _answer(
    make: Callable[[web.Request], web.StreamResponse],
) -> Callable[..., Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return make(request)

    return handler


class _Cdn:
    """A CDN on 127.0.0.1 that records each request it gets, and the client port it came from."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, int]] = []
        self.sent = 0
        self.release = asyncio.Event()
        self.app = web.Application(middlewares=[self._record])
        self.app.add_routes(
            [
                web.get("/cat.png", _answer(lambda _: web.Response(body=_png(), content_type="image/png"))),
                web.get("/cat.txt", _answer(lambda _: web.Response(body=_png(), content_type="text/plain"))),
                web.get(
                    "/notes.txt",
                    _answer(lambda _: web.Response(text="not an image", content_type="image/png")),
                ),
                web.get("/wide.png", _answer(lambda _: web.Response(body=_png((5000, 4000))))),
                web.get("/chain/{hops}", self._chain),
                web.get("/away", self._away),
                web.get("/loop", self._loop),
                web.get("/declares-20mb", self._declares_20mb),
                web.get("/chunked", self._chunked),
                web.get("/gzip", self._gzip),
                web.get("/slow", self._slow),
            ]
        )

    @web.middleware
    async def _record(self, request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]):
        self.hits.append((request.path, request.transport.get_extra_info("peername")[1]))
        return await handler(request)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.hits]

    async def _chain(self, request: web.Request) -> web.StreamResponse:
        hops = int(request.match_info["hops"])
        if hops:
            raise web.HTTPFound(f"/chain/{hops - 1}")
        return web.Response(body=_png())

    async def _away(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://localhost:{request.url.port}/cat.png")  # this server, another origin

    async def _loop(self, _: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop")

    async def _declares_20mb(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.content_length = 20 * MB
        await response.prepare(request)
        try:
            await response.write(b"\x89PNG")
            await asyncio.wait_for(self.release.wait(), 5)  # the rest never comes
        except (ConnectionError, TimeoutError):
            pass
        return response

    async def _chunked(self, request: web.Request) -> web.StreamResponse:
        """64 MB of a body that does not say its size, sent until the client hangs up."""
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(1024):
                await response.write(b"\x89PNG" + b"\x00" * (64 * 1024 - 4))
                self.sent += 64 * 1024
        except ConnectionError:
            pass
        return response

    async def _gzip(self, _: web.Request) -> web.Response:
        """About 20 KB on the wire that inflate to 20 MB."""
        body = gzip.compress(b"\x89PNG" + b"\x00" * (20 * MB), 9)
        return web.Response(body=body, headers={"Content-Type": "image/png", "Content-Encoding": "gzip"})

    async def _slow(self, _: web.Request) -> web.Response:
        with suppress(TimeoutError):
            await asyncio.wait_for(self.release.wait(), 5)
        return web.Response(body=_png())

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        runner = web.AppRunner(self.app, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            self.release.set()
            await runner.cleanup()


Scenario = Callable[[ImageFetcher, str, _Cdn], Awaitable[None]]


def _run(
    scenario: Scenario, *, private_ok: bool = True, host: str = "127.0.0.1", timeout: float = 20.0
) -> _Cdn:
    """Runs `scenario` with a fetcher whose one allowed origin is the CDN's, under `host`."""
    cdn = _Cdn()

    async def main() -> None:
        async with cdn.running() as origin:
            origin = origin.replace("127.0.0.1", host)
            rules = FetchRules(origins=(origin,), max_bytes=1 * MB, max_pixels=LIMIT, private_ok=private_ok)
            fetcher = ImageFetcher(rules, timeout=timeout)
            try:
                await scenario(fetcher, origin, cdn)
            finally:
                await fetcher.close()

    asyncio.run(main())
    return cdn


def _refused(
    path_or_url: str, match: str, *, error: type[MemberError] = FetchError, **fetch: object
) -> Scenario:
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        url = path_or_url if "://" in path_or_url else origin + path_or_url
        with pytest.raises(error, match=match):
            await fetcher.fetch(url, what="the attachment `cat.png`", **fetch)

    return scenario


def test_an_image_on_an_allowed_origin_is_fetched_through_one_reused_connection():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        for _ in range(2):
            image = await fetcher.fetch(origin + "/cat.png", declared_size=200)
            assert (image.size, image.mode, image.getpixel((8, 8))) == ((16, 16), "RGB", RED)

    cdn = _run(scenario)
    assert cdn.paths == ["/cat.png", "/cat.png"]
    assert cdn.hits[0][1] == cdn.hits[1][1]  # the same client port: the session was kept


def test_a_fetcher_closed_opens_a_new_session_when_used_again():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        await fetcher.fetch(origin + "/cat.png")
        await fetcher.close()
        await fetcher.fetch(origin + "/cat.png")

    assert _run(scenario).paths == ["/cat.png", "/cat.png"]


def test_the_type_is_told_by_the_bytes_not_the_content_type():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        assert (await fetcher.fetch(origin + "/cat.txt")).size == (16, 16)
        with pytest.raises(UploadError, match=r"^image 2 isn't a PNG, JPEG, WebP or GIF image$"):
            await fetcher.fetch(origin + "/notes.txt", what="image 2")

    _run(scenario)


def test_too_many_pixels_is_refused_after_the_download():
    _run(_refused("/wide.png", "is 5000×4000 pixels", error=UploadError))


@pytest.mark.parametrize(
    ("url", "match"),
    [
        (
            "https://example.com/cat.png",
            "isn't on Discord's CDN; only images uploaded to Discord can be used",
        ),
        ("http://127.0.0.1:1/cat.png", "isn't on Discord's CDN"),  # another port: another origin
        ("https://127.0.0.1/cat.png", "isn't on Discord's CDN"),
        ("ftp://127.0.0.1/cat.png", "isn't on Discord's CDN"),
        ("file:///etc/passwd", "isn't on Discord's CDN"),
        ("/cat.png", "isn't on Discord's CDN"),
        ("http://[::1", "isn't a link I can read"),
    ],
)
def test_urls_off_the_allowed_origins_are_refused_before_any_request(url: str, match: str):
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        with pytest.raises(FetchError, match=match):
            await fetcher.fetch(url)

    assert _run(scenario).paths == []


def test_a_url_with_userinfo_is_refused():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        for userinfo in ("user@", "user:secret@", ":secret@"):
            with pytest.raises(FetchError, match="has a user name in it"):
                await fetcher.fetch(origin.replace("://", f"://{userinfo}") + "/cat.png")

    assert _run(scenario).paths == []


def test_redirects_on_the_origin_are_followed_up_to_three_hops():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        assert (await fetcher.fetch(origin + "/chain/3")).size == (16, 16)
        with pytest.raises(FetchError, match=r"could not be downloaded \(too many redirects\)"):
            await fetcher.fetch(origin + "/chain/4")
        with pytest.raises(FetchError, match="too many redirects"):
            await fetcher.fetch(origin + "/loop")

    chain = [f"/chain/{hops}" for hops in (3, 2, 1, 0, 4, 3, 2, 1)]  # /chain/4's fourth hop: never asked
    assert _run(scenario).paths == [*chain, "/loop", "/loop", "/loop", "/loop"]


def test_a_redirect_off_the_origin_is_refused_without_following_it():
    cdn = _run(_refused("/away", "the attachment `cat.png` isn't on Discord's CDN"))
    assert cdn.paths == ["/away"]


def test_a_declared_size_over_the_cap_is_refused_before_any_request():
    message = r"^the attachment `cat.png` is 14\.2 MB; images can be at most 1 MB$"
    cdn = _run(_refused("/cat.png", message, declared_size=int(14.2 * MB)))
    assert cdn.paths == []


def test_a_content_length_over_the_cap_is_refused_before_the_body():
    started = time.monotonic()
    _run(_refused("/declares-20mb", r"is 20 MB; images can be at most 1 MB"))
    assert time.monotonic() - started < 3  # the server holds the body back for 5 s


def test_a_body_without_a_size_is_cut_off_past_the_cap_whatever_size_was_declared():
    cdn = _run(_refused("/chunked", r"is more than 1 MB; images can be at most 1 MB", declared_size=1000))
    assert cdn.sent < 16 * MB  # of 64


def test_a_compressed_body_is_counted_as_it_inflates():
    _run(_refused("/gzip", r"is more than 1 MB; images can be at most 1 MB"))


def test_a_missing_image_says_the_status():
    _run(_refused("/nothing-here.png", r"^the attachment `cat.png` could not be downloaded \(HTTP 404\)$"))


def test_a_slow_server_times_out():
    started = time.monotonic()
    _run(_refused("/slow", r"could not be downloaded \(timed out\)"), timeout=0.3)
    assert time.monotonic() - started < 3


def test_a_refused_connection_says_so():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario(_: ImageFetcher, origin: str, __: _Cdn) -> None:
        rules = FetchRules(
            origins=(f"http://127.0.0.1:{port}",), max_bytes=MB, max_pixels=LIMIT, private_ok=True
        )
        fetcher = ImageFetcher(rules)
        try:
            with pytest.raises(FetchError, match=r"could not be downloaded \(connection failed\)"):
                await fetcher.fetch(f"http://127.0.0.1:{port}/cat.png")
        finally:
            await fetcher.close()

    _run(scenario)


def test_a_private_ip_literal_is_refused_even_on_an_allowed_origin():
    cdn = _run(
        _refused("/cat.png", r"^the attachment `cat.png` points at a private address$"), private_ok=False
    )
    assert cdn.paths == []


def test_a_name_resolving_to_a_private_address_is_refused_as_it_connects():
    # "localhost" is no IP literal: only the resolver, at connect time, can see where it points.
    cdn = _run(_refused("/cat.png", "points at a private address"), private_ok=False, host="localhost")
    assert cdn.paths == []


def test_private_addresses_are_fetched_when_allowed():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        assert (await fetcher.fetch(origin + "/cat.png")).size == (16, 16)

    assert _run(scenario, host="localhost").paths == ["/cat.png"]


def test_the_resolver_keeps_only_public_addresses(monkeypatch: pytest.MonkeyPatch):
    """A name answering with public and private addresses at once (DNS rebinding) connects only to
    the public ones; one with private ones only is refused."""
    answers = {
        "mixed.test": ["93.184.216.34", "127.0.0.1", "::ffff:10.0.0.1", "2606:4700::1111", "fe80::1%2"],
        "private.test": ["10.0.0.1", "::1", "::ffff:127.0.0.1"],
    }

    class Answering(AbstractResolver):
        def __init__(self) -> None:
            pass

        async def resolve(
            self, host: str, port: int = 0, family: int = socket.AF_INET
        ) -> list[ResolveResult]:
            return [_answer_for(host, address, port) for address in answers[host]]

        async def close(self) -> None:
            pass

    monkeypatch.setattr(addresses.aiohttp, "DefaultResolver", Answering)

    async def main() -> None:
        resolver = addresses.PublicResolver()
        found = await resolver.resolve("mixed.test", 443)
        assert [address["host"] for address in found] == ["93.184.216.34", "2606:4700::1111"]
        with pytest.raises(OSError, match="private addresses only"):
            await resolver.resolve("private.test", 443)
        await resolver.close()

    asyncio.run(main())


def _answer_for(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {"hostname": host, "host": address, "port": port, "family": family, "proto": 0, "flags": 0}


@pytest.mark.parametrize(
    "host",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "[::1]",
        "[::]",
        "[fe80::1]",
        "[fc00::1]",
        "[ff02::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
    ],
)
def test_private_ip_literals_of_each_kind_are_refused_without_connecting(host: str):
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        rules = FetchRules(origins=(f"http://{host}:8080",), max_bytes=MB, max_pixels=LIMIT)
        fetcher = ImageFetcher(rules, timeout=0.5)
        try:
            with pytest.raises(FetchError, match="points at a private address"):
                await fetcher.fetch(f"http://{host}:8080/cat.png")
        finally:
            await fetcher.close()

    _run(scenario)


def test_the_errors_are_member_errors_with_a_preface():
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch("https://example.com/cat.png", what="the link `https://example.com/cat.png`")
        assert isinstance(caught.value, MemberError) and isinstance(caught.value, ValueError)
        assert caught.value.reply == (
            "I can't use that image: the link `https://example.com/cat.png` isn't on Discord's CDN;"
            " only images uploaded to Discord can be used"
        )

    _run(scenario)
