"""Claude CLI: GET /api/claude-cli/status, POST /api/claude-cli/login."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import claude_cli
from services.api.deps import Authorized, Ctx
from services.api.schemas.common import errors
from services.api.schemas.providers import ClaudeCliLogin, ClaudeCliView

router = APIRouter(prefix="/api/claude-cli", dependencies=[Authorized])


@router.get("/status", response_model=ClaudeCliView, responses=errors())
async def cli_status(ctx: Ctx) -> ClaudeCliView:
    return await claude_cli.status(ctx)


@router.post("/login", response_model=ClaudeCliLogin, responses=errors())
async def cli_login(ctx: Ctx) -> ClaudeCliLogin:
    return await claude_cli.login(ctx)
