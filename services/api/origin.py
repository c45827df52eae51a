"""Same-origin checks for cookie-authenticated requests (the console's CSRF defence).

A browser sends the session cookie with any request to this host, but it names the page that
made a request in `Origin`, which a page cannot forge. A state-changing request that rides on the
cookie must come from the server's own origin (as the Host header and scheme give it) or from
AION_PUBLIC_URL's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL; None when it is not an http(s) one."""
    try:
        parts = urlsplit(origin.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host or port is None:
        return None
    return scheme, host, port


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def own_origin(scope: Scope) -> tuple[str, str, int] | None:
    """The origin this request was sent to: its scheme (https when a trusted proxy said so)
    and its Host header."""
    host = header(scope, b"host")
    if not host:
        return None
    return normalise(f"{scope.get('scheme', 'http')}://{host}")


def is_https(scope: Scope, public_url: str | None) -> bool:
    """Served over https: the request came so (a trusted proxy's X-Forwarded-Proto counts), or
    it was sent to the host of an https AION_PUBLIC_URL (a proxy that terminates TLS without
    saying so). A direct http://localhost:7000 visit is not: its cookie must not be Secure."""
    if scope.get("scheme") == "https":
        return True
    public = normalise(public_url) if public_url else None
    own = own_origin(scope)
    return public is not None and public[0] == "https" and own is not None and own[1] == public[1]


def same_origin(scope: Scope, public_url: str | None) -> bool:
    """The request's Origin is the server's own origin or AION_PUBLIC_URL's."""
    sent = header(scope, b"origin")
    origin = normalise(sent) if sent else None
    if origin is None:
        return False
    allowed = {own_origin(scope), normalise(public_url) if public_url else None}
    return origin in allowed - {None}
