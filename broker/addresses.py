"""Connecting only to public addresses, for the front doors that reach out on a member's or a
client's word (the bot's image downloads, the API's webhooks): a resolver that drops private
addresses as it connects, so a name that resolves to a public address when checked and to a
private one later cannot pass, and the check for an address given as an IP literal."""

import ipaddress
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult


class PrivateAddressError(OSError):
    """A host that resolves to private addresses only (aiohttp wraps an OSError from a resolver)."""


class PublicResolver(AbstractResolver):
    """The default resolver, without the private addresses it returns."""

    def __init__(self) -> None:
        self._resolver = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        public = [address for address in found if is_public(address["host"])]
        if not public:
            raise PrivateAddressError(f"{host} resolves to private addresses only")
        return public

    async def close(self) -> None:
        await self._resolver.close()


def is_ip(host: str | None) -> bool:
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return True


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, …)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
