"""Fetch one URL for the model: vetted addresses only, pinned connections, hard limits.

Each hop (the URL, then every redirect) is resolved once here and checked by the guard; the
connection goes to that vetted address, with the original name in the Host header and as the
TLS server name (certificates are still verified against it), so a second DNS answer cannot
point the request elsewhere. Redirects are followed by hand, each hop checked the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from services.worker.plugins.web.guard import (
    AddressRefused,
    BlockedPredicate,
    IPAddress,
    Resolver,
    is_blocked_address,
    system_resolver,
    vet_host,
)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "AION/1.0 (personal assistant; web_fetch)"
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_ADDRESSES = 3  # of one name, tried in turn when a connection fails


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle takes a few hundred ms: done once, then only read."""
    return httpx.create_ssl_context()


def direct_transport() -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(retries=0, verify=_tls_context())


class FetchError(Exception):
    """The page could not be fetched; the message says why, for the model."""


class _ConnectFailed(FetchError):
    """This address did not take the connection (another one of the name may)."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 2_000_000  # of the (decoded) body; reading stops there
    timeout_seconds: float = 20.0  # for the whole fetch, redirects included
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    charset: str | None
    truncated: bool  # the body was longer than max_bytes
    redirects: list[str] = field(default_factory=list)


async def fetch(
    url: str,
    *,
    limits: FetchLimits = FetchLimits(),
    resolver: Resolver = system_resolver,
    is_blocked: BlockedPredicate = is_blocked_address,
    transport: Callable[[], httpx.AsyncBaseTransport] = direct_transport,
) -> FetchedPage:
    """GET `url` and read at most `limits.max_bytes` of it. Raises AddressRefused for an
    address the policy blocks (at any hop) and FetchError for everything else. `transport`
    makes the transport of each hop."""
    current = _checked_url(url)
    hops: list[str] = []
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            while True:
                addresses = await vet_host(
                    _host(current), _port(current), resolver=resolver, is_blocked=is_blocked
                )
                answer = await _get_any(current, addresses, limits, transport)
                if isinstance(answer, FetchedPage):
                    return dataclasses.replace(answer, redirects=hops)
                location = answer
                if len(hops) >= limits.max_redirects:
                    raise FetchError(f"more than {limits.max_redirects} redirects; gave up")
                hops.append(str(current))
                try:
                    current = _checked_url(str(current.join(location)))
                except FetchError as exc:
                    raise FetchError(f"redirected to {location!r}: {exc}") from exc
    except TimeoutError:
        raise FetchError(f"no complete answer within {limits.timeout_seconds:g} s") from None


def _checked_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"not a valid URL: {exc}") from exc
    if url.scheme not in _DEFAULT_PORTS:
        raise FetchError("only http:// and https:// URLs can be fetched")
    if not url.raw_host:
        raise FetchError("the URL has no host")
    if url.userinfo:
        raise FetchError("URLs with a user name or password are not fetched")
    return url


def _host(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii")  # IDNA form for international names


def _port(url: httpx.URL) -> int:
    return url.port or _DEFAULT_PORTS[url.scheme]


def _host_header(url: httpx.URL) -> str:
    host = _host(url)
    if ":" in host:
        host = f"[{host}]"
    return host if url.port is None else f"{host}:{url.port}"


async def _get_any(
    url: httpx.URL,
    addresses: list[IPAddress],
    limits: FetchLimits,
    transport: Callable[[], httpx.AsyncBaseTransport],
) -> FetchedPage | str:
    """Try the vetted addresses in turn (a name with an unreachable IPv6 address may well
    have a reachable IPv4 one) until one accepts the connection."""
    tried = addresses[:MAX_ADDRESSES]
    for address in tried[:-1]:
        try:
            return await _get(url, address, limits, transport)
        except _ConnectFailed:
            continue
    return await _get(url, tried[-1], limits, transport)


async def _get(
    url: httpx.URL,
    address: IPAddress,
    limits: FetchLimits,
    transport: Callable[[], httpx.AsyncBaseTransport],
) -> FetchedPage | str:
    """One request to the vetted address: the page, or the Location of a redirect."""
    pinned = url.copy_with(host=str(address))
    extensions = {"sni_hostname": _host(url)} if url.scheme == "https" else {}
    headers = {
        "Host": _host_header(url),
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
    }
    # A fresh client per hop: no pooled connection (made for another name) is ever reused,
    # and no proxy from the environment gets to resolve the name itself.
    async with httpx.AsyncClient(
        transport=transport(),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(limits.timeout_seconds),
    ) as client:
        request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            failure = _ConnectFailed if isinstance(exc, httpx.ConnectError) else FetchError
            raise failure(f"could not connect to {_host(url)}: {reason}") from exc
        try:
            if response.status_code in REDIRECTS:
                location: str | None = response.headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {response.status_code} redirect without a Location")
                return location
            body, truncated = await _read_capped(response, limits.max_bytes)
        except httpx.HTTPError as exc:
            raise FetchError(f"the download from {_host(url)} failed: {exc}") from exc
        finally:
            await response.aclose()
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return FetchedPage(
        str(url), response.status_code, content_type, body, response.charset_encoding, truncated
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body up to `max_bytes` (decompressed); stops reading beyond that."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


__all__ = ["AddressRefused", "FetchError", "FetchLimits", "FetchedPage", "fetch"]
