"""Signing in to the console and out again: the token checked once, a cookie from then on."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from services.api.auth import Caller, identify
from services.api.context import AppContext
from services.api.errors import Forbidden, Unauthorized
from services.api.origin import header, is_https, same_origin
from services.api.sessions import COOKIE_NAME
from services.api.throttle import client_address


async def sign_in(ctx: AppContext, scope: Scope, token: str) -> Response:
    """204 with the session cookie, for the owner's token. A wrong token counts towards the
    address's backoff exactly as a wrong bearer token does."""
    if header(scope, b"origin") is not None and not same_origin(
        scope, ctx.settings.aion_public_url
    ):
        # Nobody signs a browser in from another site's page (login CSRF).
        raise Forbidden("Sign in from this server's own page.")
    address = client_address(scope)
    attempt = f"a console sign-in from {address}"
    caller = await identify(ctx.credentials, ctx.failed_tokens, token, address, attempt)
    if caller is None:
        raise Unauthorized("The API token is not valid.")
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
