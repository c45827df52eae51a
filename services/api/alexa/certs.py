"""Amazon's signing certificate: where it may come from, how it is fetched, what it must chain to.

The outside world here is Amazon: an S3 URL serving a PEM chain, and the public roots that chain
leads to. Both sit behind `AlexaTrust`, so the api talks to the real ones in production
(`amazon_trust()`: httpx and certifi's roots) and a test can hand in a throw-away CA and a fetcher
serving its chain. Nothing here can turn a check off: whatever trust is given, every rule runs.
"""

from __future__ import annotations

import logging
import posixpath
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import certifi
import httpx
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

log = logging.getLogger("aion.api.alexa")

CERT_HOST = "s3.amazonaws.com"
CERT_PATH_PREFIX = "/echo.api/"
MAX_CHAIN_BYTES = 64 * 1024  # Amazon's chain is a few KiB
FETCH_TIMEOUT_SECONDS = 3.0
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class CertificateError(Exception):
    """Why a signing certificate (or where it comes from) is not acceptable; for the log."""


def normalise_cert_url(raw: str) -> str:
    """Check `SignatureCertChainUrl` as Amazon documents it and return the URL to fetch.

    https, host s3.amazonaws.com (any case), port 443 if one is given, and a path that still
    starts with /echo.api/ once `.`/`..` segments are resolved. The URL returned is rebuilt from
    the checked parts, so what is fetched is exactly what was checked, and it is the key of the
    chain cache: every spelling of one certificate is one entry and one fetch.

    A query or fragment is dropped, not refused. Amazon's rules name the certificate by scheme,
    host, port and path alone, so a URL that passes them is a valid one with or without a
    query; but a query takes part in no rule, so it must not reach S3 either (`?versionId=`
    would pick another object than the path names) nor make a new cache entry (`?x=1`, `?x=2`,
    ... would each cost a fetch). A fragment never leaves the client anyway.
    """
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as exc:
        raise CertificateError(f"certificate URL {raw!r} is not a URL") from exc
    if parts.scheme.lower() != "https":
        raise CertificateError(f"certificate URL {raw!r} is not https")
    if (parts.hostname or "").lower() != CERT_HOST or parts.username or parts.password:
        raise CertificateError(f"certificate URL {raw!r} is not on {CERT_HOST}")
    if port is not None and port != 443:
        raise CertificateError(f"certificate URL {raw!r} names port {port}, not 443")
    decoded = unquote(parts.path)
    if "\\" in decoded:
        raise CertificateError(f"certificate URL {raw!r} has a backslash in its path")
    path = posixpath.normpath(decoded) if decoded else "/"
    if decoded.endswith("/") and not path.endswith("/"):
        path += "/"
    if path.startswith("//"):  # normpath keeps a leading '//'
        path = "/" + path.lstrip("/")
    if not path.startswith(CERT_PATH_PREFIX):
        raise CertificateError(
            f"certificate URL {raw!r} path is {path!r}, not under {CERT_PATH_PREFIX}"
        )
    return f"https://{CERT_HOST}{quote(path)}"


def parse_chain(pem: bytes) -> list[x509.Certificate]:
    """The PEM chain Amazon serves: signing certificate first, then its intermediates."""
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise CertificateError(f"certificate chain is not PEM: {exc}") from exc
    if not chain:
        raise CertificateError("certificate chain is empty")
    return chain


class CertificateFetcher(Protocol):
    """Fetches the PEM bytes at an already-checked certificate URL."""

    async def fetch(self, url: str) -> bytes: ...


class HttpCertificateFetcher:
    """GET over httpx: no redirects, a timeout, a size limit, 200 only."""

    def __init__(self, client: httpx.AsyncClient, timeout: float = FETCH_TIMEOUT_SECONDS) -> None:
        self._client = client
        self._timeout = timeout

    async def fetch(self, url: str) -> bytes:
        try:
            async with self._client.stream(
                "GET", url, timeout=self._timeout, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    raise CertificateError(f"fetching {url} answered HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_CHAIN_BYTES:
                        raise CertificateError(f"{url} is larger than {MAX_CHAIN_BYTES} bytes")
                return body
        except httpx.HTTPError as exc:
            raise CertificateError(f"fetching {url} failed: {exc!r}") from exc


@dataclass(frozen=True)
class AlexaTrust:
    """Where signing certificates come from and the roots they must chain to."""

    roots: Sequence[x509.Certificate]
    fetcher: CertificateFetcher


def certifi_roots(bundle: Path | None = None) -> list[x509.Certificate]:
    """The public roots of certifi's bundle (Mozilla's), which include Amazon's roots.

    Parsed one by one: a root that this cryptography cannot read is left out, not fatal.
    """
    roots = []
    for block in _PEM_BLOCK.findall(Path(bundle or certifi.where()).read_bytes()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                roots.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            log.debug("skipping a root of the CA bundle that does not parse")
    return roots


@asynccontextmanager
async def amazon_trust() -> AsyncIterator[AlexaTrust]:
    """Production trust: Amazon's S3 over httpx, and certifi's public roots."""
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, trust_env=False) as client:
        yield AlexaTrust(roots=certifi_roots(), fetcher=HttpCertificateFetcher(client))


class ChainCache:
    """Fetched chains by normalised URL (`normalise_cert_url`), in memory: a few entries, each
    kept for at most `max_age`.

    Only what was fetched and parsed is cached; every request still verifies the chain.
    """

    def __init__(self, fetcher: CertificateFetcher, size: int = 16, max_age: float = 86400.0):
        self._fetcher = fetcher
        self._size = size
        self._max_age = max_age
        self._entries: OrderedDict[str, tuple[float, list[x509.Certificate]]] = OrderedDict()

    async def get(self, url: str) -> list[x509.Certificate]:
        now = time.monotonic()
        cached = self._entries.get(url)
        if cached is not None and now - cached[0] < self._max_age:
            self._entries.move_to_end(url)
            return cached[1]
        chain = parse_chain(await self._fetcher.fetch(url))
        self._entries[url] = (now, chain)
        self._entries.move_to_end(url)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return chain
