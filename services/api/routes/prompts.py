"""Prompts: GET/POST /api/prompt/{name} (rules, character, self; self_doc is an alias)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.api import prompts
from services.api.deps import Authorized, Ctx, DbConn
from shared.db.prompts import KEEP_REVISIONS
from shared.prompts import MAX_PROMPT_CHARS

router = APIRouter(prefix="/api/prompt", dependencies=[Authorized])


class PromptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(max_length=MAX_PROMPT_CHARS)


@router.get("/{name}")
async def get_prompt(
    name: str,
    conn: DbConn,
    revision: Annotated[int, Query(ge=0, lt=KEEP_REVISIONS, description="saves back")] = 0,
) -> dict[str, Any]:
    return await prompts.read(conn, name, revision)


@router.post("/{name}")
async def save_prompt(name: str, body: PromptBody, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await prompts.save(ctx, conn, name, body.content)
