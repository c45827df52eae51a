"""Request dependencies: the app context, a database connection, the owner's token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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

_bearer = HTTPBearer(auto_error=False)


async def require_token(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'.")
    caller = ctx.credentials.caller(credentials.credentials)
    if caller is None:
        raise Unauthorized("The bearer token is not valid.")
    route_path = getattr(request.scope.get("route"), "path", None)
    if not ctx.credentials.allows(caller, request.method, route_path):
        raise Forbidden(f"The {caller.value} service's credential does not open this route.")


Authorized = Depends(require_token)
