"""What the front gate needs to know of a route before any body is read: is it public, is it a
probe, may it take a large body. Everything not listed public needs a bearer token.

Listed by method and route template (the templates the routers declare). The gate matches the
raw request path against them; the routers' `Authorized` dependency checks the gate's verdict
again after routing, so a template listed here by mistake still does not open a private route.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.routing import compile_path

# Every body is at most this large, except on the authenticated routes in LARGE_BODIES.
SMALL_BODY_BYTES = 256 * 1024


class RouteSet:
    """A set of (method, route template) pairs that raw request paths are matched against."""

    def __init__(self, routes: Iterable[tuple[str, str]]) -> None:
        by_template: dict[str, set[str]] = {}
        for method, template in routes:
            by_template.setdefault(template, set()).add(method)
        self._routes: list[tuple[frozenset[str], str, re.Pattern[str]]] = [
            (frozenset(methods), template, compile_path(template)[0])
            for template, methods in by_template.items()
        ]

    def match(self, method: str, path: str) -> str | None:
        """The template `path` matches under `method`, or None. A template matches itself."""
        for methods, template, regex in self._routes:
            if method in methods and regex.match(path):
                return template
        return None

    def __contains__(self, route: tuple[str, str]) -> bool:
        return self.match(*route) is not None

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset((m, template) for methods, template, _ in self._routes for m in methods)


# Probes: public, never rate-limited (a limited probe would take the api out of service).
PROBES = RouteSet(
    [("GET", "/healthz"), ("HEAD", "/healthz"), ("GET", "/readyz"), ("HEAD", "/readyz")]
)

# Console sign-in: public, with the token in the body, which the route checks. The gate also
# refuses a blocked address (429) before the body is read; the route counts a wrong token.
SIGN_IN = RouteSet([("POST", "/api/session")])

# Public: no bearer token; rate-limited per client address (probes excepted).
PUBLIC = RouteSet(
    [
        *PROBES.pairs(),
        *SIGN_IN.pairs(),
        ("GET", "/api/status"),
        ("HEAD", "/api/status"),
        ("POST", "/api/alexa"),  # Amazon-signed: the route verifies the signature
        ("GET", "/api/oauth/google/callback"),  # checks the one-time `state` it issued
    ]
)

# First path segments that are never the console's: the api, the probes, the metrics.
_NOT_CONSOLE = frozenset({"api", "v1", "metrics", "healthz", "readyz"})


def is_console(method: str, path: str) -> bool:
    """A page or asset of the web console (public: it holds no data; the api behind it does)."""
    return method in ("GET", "HEAD") and path.split("/", 2)[1] not in _NOT_CONSOLE


# Authenticated routes that take large bodies (AION_MAX_BODY_BYTES): chat with images as data
# URLs (and the OpenAI-compatible chat, which also carries the whole conversation), and prompts
# of up to 100,000 characters (up to 6 bytes each once JSON-escaped).
LARGE_BODIES = RouteSet(
    [("POST", "/api/chat"), ("POST", "/v1/chat/completions"), ("POST", "/api/prompt/{name}")]
)

# Authenticated routes that take a multipart/form-data upload (AION_FILE_MAX_BYTES, plus room
# for the multipart framing); every other body is JSON.
UPLOADS = RouteSet([("POST", "/api/files")])
UPLOAD_OVERHEAD_BYTES = 64 * 1024
