"""Google login: GET /api/oauth/google/start (owner) and /callback (public, state-checked)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.api import google_oauth
from services.api.deps import Authorized, Ctx, DbConn
from services.api.errors import AppError
from services.api.schemas.common import errors
from services.api.schemas.providers import OAuthStart

router = APIRouter(prefix="/api/oauth/google")

Param = Annotated[str | None, Query(max_length=4096)]


@router.get("/start", dependencies=[Authorized], response_model=OAuthStart, responses=errors(409))
async def start(ctx: Ctx, conn: DbConn) -> OAuthStart:
    return OAuthStart(url=await google_oauth.start(ctx, conn))


_PAGE: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}


@router.get(
    "/callback",
    response_class=HTMLResponse,
    responses={
        **errors(422, public=True),
        400: {"description": "sign-in failed (an HTML page saying why)", **_PAGE},
    },
)
async def callback(
    ctx: Ctx, conn: DbConn, code: Param = None, state: Param = None, error: Param = None
) -> HTMLResponse:
    try:
        await google_oauth.callback(ctx, conn, code, state, error)
    except (google_oauth.LoginFailed, AppError) as exc:
        text = exc.detail if isinstance(exc, AppError) else str(exc)
        return HTMLResponse(google_oauth.page("Google sign-in failed", text), status_code=400)
    done = "Gemini can now be used without an API key. You can close this window."
    return HTMLResponse(google_oauth.page("Signed in with Google", done))
