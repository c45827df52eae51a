"""Request dependencies: the app context, a database connection, the caller the gate let in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from services.api.auth import CALLER_SCOPE_KEY, Caller, Credentials
from services.api.context import AppContext
from services.api.errors import Forbidden, Unauthorized
from shared.db import Conn


async def get_context(request: Request) -> AppContext:
    # async: a plain def would send every request through the threadpool.
    context: AppContext = request.app.state.context
    return context


Ctx = Annotated[AppContext, Depends(get_context)]


async def get_connection(ctx: Ctx) -> AsyncIterator[Conn]:
    async with ctx.pool.connection() as conn:
        yield conn


DbConn = Annotated[Conn, Depends(get_connection)]


async def require_token(request: Request) -> Caller:
    """The front gate (services/api/gate.py) checked the token before the body was read; this
    checks its verdict again once the route is known, so a private route stays closed even if
    it were listed public by mistake, and the telegram credential is held to its routes."""
    caller = request.scope.get(CALLER_SCOPE_KEY)
    if not isinstance(caller, Caller):
        raise Unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'.")
    route_path = getattr(request.scope.get("route"), "path", None)
    if not Credentials.allows(caller, request.method, route_path):
        raise Forbidden(f"{caller.credential} does not open this route.")
    return caller


Authorized = Depends(require_token)
