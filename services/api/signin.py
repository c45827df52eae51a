"""Signing in to the console and out again: the token checked once, a cookie from then on."""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import Scope

from services.api.auth import Caller
from services.api.context import AppContext
from services.api.errors import Forbidden, Unauthorized
from services.api.origin import header, is_https, same_origin
from services.api.sessions import COOKIE_NAME
from services.api.throttle import client_address

log = logging.getLogger("aion.api.signin")


async def sign_in(ctx: AppContext, scope: Scope, token: str) -> Response:
    """204 with the session cookie, for the owner's token. A wrong token counts towards the
    address's backoff exactly as a wrong bearer token does."""
    if header(scope, b"origin") is not None and not same_origin(
        scope, ctx.settings.aion_public_url
    ):
        # Nobody signs a browser in from another site's page (login CSRF).
        raise Forbidden("Sign in from this server's own page.")
    address = client_address(scope)
    caller = ctx.credentials.caller(token)
    if caller is None:
        failures, wait = await ctx.failed_tokens.failed(address)
        log.warning(
            "refused a console sign-in from %s (%d failed in 15 min%s)",
            address,
            failures,
            f"; blocked for {wait:.0f} s" if wait else "",
        )
        raise Unauthorized("The API token is not valid.")
    ctx.failed_tokens.passed(address)
    if caller is not Caller.OWNER:
        raise Forbidden("Only the owner's API token opens a console session.")
    session_id = await ctx.sessions.create(caller)
    response = Response(status_code=204)
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=ctx.sessions.ttl_seconds,
        path="/",
        secure=is_https(scope, ctx.settings.aion_public_url),
        httponly=True,
        samesite="strict",
    )
    return response


async def sign_out(ctx: AppContext, scope: Scope, session_id: str | None) -> Response:
    """204; the session (if the request had one) is gone on every replica, the cookie cleared."""
    if session_id:
        await ctx.sessions.revoke(session_id)
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        secure=is_https(scope, ctx.settings.aion_public_url),
        httponly=True,
        samesite="strict",
    )
    return response
