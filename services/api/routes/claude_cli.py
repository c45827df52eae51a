"""Claude CLI: GET /api/claude-cli/status, POST /api/claude-cli/login."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api import claude_cli
from services.api.deps import Authorized, Ctx

router = APIRouter(prefix="/api/claude-cli", dependencies=[Authorized])


@router.get("/status")
async def cli_status(ctx: Ctx) -> dict[str, Any]:
    return await claude_cli.status(ctx)


@router.post("/login")
async def cli_login(ctx: Ctx) -> dict[str, Any]:
    return await claude_cli.login(ctx)
