"""The api's front gate: who may come in, and with how large a body, settled from the request
line and headers alone, before a byte of the body is read.

Public routes (services/api/access.py) are rate-limited per client address; every other path,
known or not, needs a bearer token (401 otherwise, so an anonymous client learns nothing of the
routes). A wrong token counts towards its address's backoff (services/api/throttle.py); a
blocked address gets 429 with Retry-After. Bodies are then bounded: 256 KiB, or
AION_MAX_BODY_BYTES on the authenticated routes that take large ones. Refusals under /v1/ come
in OpenAI's shape (services/api/errors.py), as every answer on those routes does.
"""

from __future__ import annotations

import logging
import math

from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.access import LARGE_BODIES, PROBES, PUBLIC, SMALL_BODY_BYTES
from services.api.auth import CALLER_SCOPE_KEY
from services.api.body_limits import within_limits
from services.api.context import AppContext
from services.api.errors import send_error
from services.api.throttle import client_address

log = logging.getLogger("aion.api.gate")

ASK_FOR_BEARER = "Missing bearer token: send 'Authorization: Bearer <token>'."
NOT_VALID = "The bearer token is not valid."


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class Gate:
    """Pure ASGI middleware (no BaseHTTPMiddleware: nothing buffers or wraps the stream)."""

    def __init__(self, app: ASGIApp, large_body_bytes: int) -> None:
        self.app = app
        self.large_body_bytes = large_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx: AppContext = scope["app"].state.context
        # The raw path, as the router matches it (the api is never mounted under a root_path;
        # if it were, paths would look private here: closed, not open).
        method, path = scope["method"], scope["path"]
        address = client_address(scope)
        if (method, path) in PUBLIC:
            limit = SMALL_BODY_BYTES
            if (method, path) not in PROBES and await self._over_public_rate(ctx, address, send):
                return
        else:
            if not await self._let_in(ctx, scope, send, method, path, address):
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
            await send_error(send, 401, "Unauthorized", ASK_FOR_BEARER, path=path)
            return False
        blocked = await ctx.failed_tokens.blocked_for(address)
        if blocked:
            await _too_many_failures(send, blocked, path)
            return False
        caller = ctx.credentials.caller(token)
        if caller is None:
            failures, wait = await ctx.failed_tokens.failed(address)
            # Never the token: only where it came from and what it was tried on.
            log.warning(
                "refused a bearer token from %s on %s %r (%d failed in 15 min%s)",
                address,
                method,
                path[:200],
                failures,
                f"; blocked for {wait:.0f} s" if wait else "",
            )
            await send_error(send, 401, "Unauthorized", NOT_VALID, path=path)
            return False
        ctx.failed_tokens.passed(address)
        if not ctx.credentials.allows(caller, method, path):
            detail = f"{caller.credential} does not open this route."
            await send_error(send, 403, "Forbidden", detail, path=path)
            return False
        scope[CALLER_SCOPE_KEY] = caller
        return True


async def _too_many_failures(send: Send, blocked: float, path: str) -> None:
    wait = max(1, math.ceil(blocked))
    detail = f"Too many invalid tokens from this address; try again in {wait} s."
    headers = {"Retry-After": str(wait)}
    await send_error(send, 429, "TooManyRequests", detail, headers, path=path)
