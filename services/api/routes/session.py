"""Console sessions: sign in with the API token (a cookie from then on), sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Request
from starlette.responses import Response

from services.api import signin
from services.api.deps import Authorized, Ctx
from services.api.schemas.chat import SignInRequest
from services.api.schemas.common import errors
from services.api.sessions import COOKIE_NAME

router = APIRouter(prefix="/api/session")


# Public as far as the gate goes (the token is in the body); the gate refuses a blocked address.
@router.post(
    "",
    status_code=204,
    response_class=Response,
    responses=errors(403, body=True, public=True) | {401: errors()[401]},
)
async def sign_in(body: SignInRequest, request: Request, ctx: Ctx) -> Response:
    return await signin.sign_in(ctx, request.scope, body.token)


@router.delete(
    "", status_code=204, response_class=Response, dependencies=[Authorized], responses=errors()
)
async def sign_out(
    request: Request,
    ctx: Ctx,
    session: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> Response:
    return await signin.sign_out(ctx, request.scope, session)
