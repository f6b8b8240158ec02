"""Downloads of the images members give: from Discord's CDN only, never from a private address,
never more than the size cap; the bot is the only process that fetches anything from the internet."""

import asyncio
from dataclasses import dataclass

import aiohttp
from PIL import Image
from yarl import URL

from broker.addresses import PrivateAddressError, PublicResolver, is_ip, is_public
from broker.uploads import read_image
from jobs.errors import MemberError

_MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CONNECT_TIMEOUT = 5.0
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchRules:
    origins: tuple[str, ...]
    """Origins images are fetched from, e.g. "https://cdn.discordapp.com"; an emulator's
    "http://127.0.0.1:50123"."""
    max_bytes: int
    max_pixels: int
    private_ok: bool = False
    """Whether an origin may be on a private address: only for an emulated CDN on this machine."""


class FetchError(MemberError, ValueError):
    """An image that was not downloaded: not allowed, or it failed; the message says why."""

    preface = "I can't use that image: "


class ImageFetcher:
    """Downloads through one lazily created session, reused until `close()`."""

    def __init__(self, rules: FetchRules, *, timeout: float = 20.0) -> None:
        self._rules = rules
        self._origins = frozenset(_origin(URL(origin)) for origin in rules.origins)
        self._total = timeout
        self._session: aiohttp.ClientSession | None = None
        self._resolver: PublicResolver | None = None

    async def fetch(
        self, url: str, *, declared_size: int | None = None, what: str = "the image"
    ) -> Image.Image:
        """The image at `url`, read by `read_image`. `declared_size` (the size Discord reports for
        an attachment) over the cap refuses it before any request. Raises `FetchError` for a URL
        not on an allowed origin or on a private address, a redirect off them, a body over the
        cap (checked as it streams), a timeout or a failed download; `UploadError` for bytes that
        are not an image it may use."""
        cap = self._rules.max_bytes
        if declared_size is not None and declared_size > cap:
            raise FetchError(_too_large(what, declared_size, cap))
        data = await self._download(url, what)
        return await asyncio.to_thread(read_image, data, max_pixels=self._rules.max_pixels, what=what)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:  # the connector closes only a resolver it made
            await self._resolver.close()
            self._resolver = None

    async def _download(self, url: str, what: str) -> bytes:
        session, target = self._opened(), _parsed(url, what)
        try:
            async with asyncio.timeout(self._total):  # all of it, redirects included
                for _ in range(_MAX_REDIRECTS + 1):
                    self._check(target, what)
                    async with session.get(target, allow_redirects=False) as response:
                        if response.status in _REDIRECTS and "Location" in response.headers:
                            target = _parsed(response.headers["Location"], what, base=response.url)
                            continue
                        if response.status != 200:
                            raise FetchError(f"{what} could not be downloaded (HTTP {response.status})")
                        return await self._body(response, what)
        except TimeoutError:
            raise FetchError(f"{what} could not be downloaded (timed out)") from None
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, PrivateAddressError):
                raise FetchError(f"{what} points at a private address") from None
            raise FetchError(f"{what} could not be downloaded (connection failed)") from None
        except aiohttp.ClientError:
            raise FetchError(f"{what} could not be downloaded") from None
        raise FetchError(f"{what} could not be downloaded (too many redirects)")

    def _check(self, url: URL, what: str) -> None:
        """Refuses `url` unless it is on an allowed origin; the address it resolves to is checked
        as it connects (`PublicResolver`), an IP literal here, as aiohttp does not resolve one."""
        if url.user is not None or url.password is not None:
            raise FetchError(f"{what} has a user name in it; give the image's plain link")
        if not url.absolute or url.scheme not in ("http", "https") or _origin(url) not in self._origins:
            raise FetchError(f"{what} isn't on Discord's CDN; only images uploaded to Discord can be used")
        if not self._rules.private_ok and is_ip(url.host) and not is_public(url.host):
            raise FetchError(f"{what} points at a private address")

    async def _body(self, response: aiohttp.ClientResponse, what: str) -> bytes:
        """The body, refused from its Content-Length when that is over the cap, and cut off once
        more than the cap has come (a missing or lying Content-Length, or a compressed body)."""
        cap = self._rules.max_bytes
        if response.content_length is not None and response.content_length > cap:
            raise FetchError(_too_large(what, response.content_length, cap))
        data = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            data += chunk
            if len(data) > cap:
                raise FetchError(_too_large(what, None, cap))
        return bytes(data)

    def _opened(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._resolver = None if self._rules.private_ok else PublicResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=self._resolver),
                timeout=aiohttp.ClientTimeout(connect=min(_CONNECT_TIMEOUT, self._total)),
                cookie_jar=aiohttp.DummyCookieJar(),  # one member's fetch sets nothing for the next
            )
        return self._session


def _parsed(url: str, what: str, *, base: URL | None = None) -> URL:
    try:
        return base.join(URL(url)) if base is not None else URL(url)
    except ValueError:
        raise FetchError(f"{what} isn't a link I can read") from None


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme.lower(), (url.host or "").lower(), url.port


def _too_large(what: str, size: int | None, cap: int) -> str:
    """`size` None: more than `cap` came, of a body that did not say its size, or lied about it."""
    told = f"more than {_mb(cap)}" if size is None else _mb(size)
    return f"{what} is {told} MB; images can be at most {_mb(cap)} MB"


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}".removesuffix(".0")
