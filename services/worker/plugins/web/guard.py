"""Which addresses `web_fetch` may connect to: public unicast ones only (the SSRF guard).

The policy is a plain predicate and the resolver a plain function, both passed to the fetcher,
so a test can allow exactly one local address without any switch that turns the guard off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
BlockedPredicate = Callable[[IPAddress], bool]

# Ranges `is_global` misses on some Python versions, or that are not global in practice.
_ALSO_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved, and the broadcast address
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local (ULA)
        "fec0::/10",  # site-local (deprecated)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The URL points at an address web_fetch must not reach."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo, NAT64, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 0xFFFF:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_blocked_address(ip: IPAddress) -> bool:
    """True for anything but public unicast: loopback, private (RFC 1918, ULA), link-local
    (cloud metadata at 169.254.169.254 included), multicast, unspecified, reserved, CGNAT,
    and IPv6 forms that carry such an IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Forms that reach an IPv4 address itself (over an IPv6 socket, or a NAT64 gateway)
        # are judged by that address alone.
        if ip.ipv4_mapped is not None or ip in _NAT64:
            return is_blocked_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        inner = embedded_ipv4(ip)
        if inner is not None and is_blocked_address(inner):
            return True
    return (
        not ip.is_global
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or any(ip in net for net in _ALSO_BLOCKED if net.version == ip.version)
    )


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host` (one lookup, used for the connect)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressRefused(f"cannot resolve {host!r}: {exc.strerror}") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def vet_host(
    host: str, port: int, *, resolver: Resolver, is_blocked: BlockedPredicate
) -> list[IPAddress]:
    """The addresses to connect to for `host`, in the resolver's order, or AddressRefused
    when any address it resolves to is not allowed. A literal address is checked as it is,
    without a lookup."""
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await resolver(host, port)
    if not addresses:
        raise AddressRefused(f"{host!r} does not resolve to any address")
    for address in addresses:
        if is_blocked(address):
            what = host if str(address) == host else f"{host!r} resolves to {address}, which"
            raise AddressRefused(
                f"{what} is a loopback, private, link-local or otherwise internal address; "
                "web_fetch only reaches public addresses"
            )
    return list(dict.fromkeys(addresses))  # without repeats, order kept
