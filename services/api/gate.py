"""The api's front gate: who may come in, and with how large a body, settled from the request
line and headers alone, before a byte of the body is read.

Public routes (services/api/access.py) are rate-limited per client address; the console's pages
are public too. Every other path, known or not, needs a bearer token or a console session cookie
(401 otherwise, so an anonymous client learns nothing of the routes). A wrong token counts towards
its address's backoff (services/api/throttle.py); a blocked address gets 429 with Retry-After,
also on sign-in. A request riding on the cookie that may change something (not GET or HEAD)
must name the server's own origin in `Origin` (403 otherwise). Bodies are then bounded: 256 KiB,
or AION_MAX_BODY_BYTES on the authenticated routes that take large ones, and uploads
(multipart/form-data) up to AION_FILE_MAX_BYTES. Refusals under /v1/ come
in OpenAI's shape (services/api/errors.py), as every answer on those routes does.
"""

from __future__ import annotations

import logging
import math

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.access import (
    LARGE_BODIES,
    PROBES,
    PUBLIC,
    SIGN_IN,
    SMALL_BODY_BYTES,
    UPLOAD_OVERHEAD_BYTES,
    UPLOADS,
    is_console,
)
from services.api.auth import CALLER_SCOPE_KEY, Caller, identify
from services.api.body_limits import within_limits
from services.api.context import AppContext
from services.api.errors import send_error
from services.api.origin import header, same_origin
from services.api.sessions import COOKIE_NAME
from services.api.throttle import client_address

log = logging.getLogger("aion.api.gate")

NOT_VALID = "The bearer token is not valid."
ASK_FOR_BEARER = (
    "Missing bearer token: send 'Authorization: Bearer <token>' (or sign in to the console)."
)
SESSION_ENDED = "The console session has expired or was signed out; sign in again."
CROSS_ORIGIN = (
    "A request made with the console's session cookie must come from this server's own page."
)
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def session_cookie(scope: Scope) -> str | None:
    cookies = header(scope, b"cookie")
    if not cookies:
        return None
    return cookie_parser(cookies).get(COOKIE_NAME) or None


class Gate:
    """Pure ASGI middleware (no BaseHTTPMiddleware: nothing buffers or wraps the stream)."""

    def __init__(self, app: ASGIApp, large_body_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.large_body_bytes = large_body_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx: AppContext = scope["app"].state.context
        # The raw path, as the router matches it (the api is never mounted under a root_path;
        # if it were, paths would look private here: closed, not open).
        method, path = scope["method"], scope["path"]
        address = client_address(scope)
        if is_console(method, path):
            # Static files: cheap, and not rate-limited (one page load fetches several).
            limit = SMALL_BODY_BYTES
        elif (method, path) in PUBLIC:
            limit = SMALL_BODY_BYTES
            if (method, path) not in PROBES and await self._over_public_rate(ctx, address, send):
                return
            if (method, path) in SIGN_IN and (
                blocked := await ctx.failed_tokens.blocked_for(address)
            ):
                await _too_many_failures(send, blocked, path)
                return
        else:
            if not await self._let_in(ctx, scope, send, method, path, address):
                return
            if (method, path) in UPLOADS:
                limit = self.upload_bytes + UPLOAD_OVERHEAD_BYTES
                await within_limits(self.app, scope, receive, send, limit, b"multipart/form-data")
                return
            large = (method, path) in LARGE_BODIES
            limit = self.large_body_bytes if large else SMALL_BODY_BYTES
        await within_limits(self.app, scope, receive, send, limit)

    async def _over_public_rate(self, ctx: AppContext, address: str, send: Send) -> bool:
        wait = await ctx.public_rate.retry_after(address)
        if wait:
            detail = f"Too many requests from this address; try again in {wait} s."
            await send_error(send, 429, "TooManyRequests", detail, {"Retry-After": str(wait)})
        return wait > 0

    async def _let_in(
        self, ctx: AppContext, scope: Scope, send: Send, method: str, path: str, address: str
    ) -> bool:
        """Authenticate; on success leave the caller in the scope, otherwise answer."""
        token = bearer_token(scope)
        if token is None:
            return await self._let_in_by_session(ctx, scope, send, method, path)
        blocked = await ctx.failed_tokens.blocked_for(address)
        if blocked:
            await _too_many_failures(send, blocked, path)
            return False
        attempt = f"a bearer token from {address} on {method} {path[:200]!r}"
        caller = await identify(ctx.credentials, ctx.failed_tokens, token, address, attempt)
        if caller is None:
            await send_error(send, 401, "Unauthorized", NOT_VALID, path=path)
            return False
        if not ctx.credentials.allows(caller, method, path):
            detail = f"{caller.credential} does not open this route."
            await send_error(send, 403, "Forbidden", detail, path=path)
            return False
        scope[CALLER_SCOPE_KEY] = caller
        return True

    async def _let_in_by_session(
        self, ctx: AppContext, scope: Scope, send: Send, method: str, path: str
    ) -> bool:
        """The console's cookie. An unknown one is not counted as a failed token: a session id
        is 256 random bits, and an expired cookie in a browser must not lock its owner out."""
        session_id = session_cookie(scope)
        if session_id is None:
            await send_error(send, 401, "Unauthorized", ASK_FOR_BEARER, path=path)
            return False
        caller = await ctx.sessions.caller(session_id)
        if caller is not Caller.OWNER:
            await send_error(send, 401, "Unauthorized", SESSION_ENDED, path=path)
            return False
        if method not in _SAFE_METHODS and not same_origin(scope, ctx.settings.aion_public_url):
            log.warning(
                "refused a cross-origin %s %r riding on a session cookie",
                method,
                scope["path"][:200],
            )
            await send_error(send, 403, "Forbidden", CROSS_ORIGIN, path=path)
            return False
        scope[CALLER_SCOPE_KEY] = caller
        return True


async def _too_many_failures(send: Send, blocked: float, path: str) -> None:
    wait = max(1, math.ceil(blocked))
    detail = f"Too many invalid tokens from this address; try again in {wait} s."
    headers = {"Retry-After": str(wait)}
    await send_error(send, 429, "TooManyRequests", detail, headers, path=path)
