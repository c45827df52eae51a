"""Prompts: GET/POST /api/prompt/{name} (rules, character, self; self_doc is an alias)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api import prompts
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors, links
from services.api.schemas.config import PromptBody, PromptSaved, PromptView
from shared.db.prompts import KEEP_REVISIONS

router = APIRouter(prefix="/api/prompt", dependencies=[Authorized])


# Read a prompt, save it back, read what was saved (and the revision before it).
_SAME_PROMPT = {"name": "$request.path.name"}


@router.get(
    "/{name}",
    operation_id="prompt_get",
    response_model=PromptView,
    responses={200: {"links": links(_SAME_PROMPT, save="prompt_save")}, **errors(404, 422)},
)
async def get_prompt(
    name: str,
    conn: DbConn,
    revision: Annotated[int, Query(ge=0, lt=KEEP_REVISIONS, description="saves back")] = 0,
) -> PromptView:
    return await prompts.read(conn, name, revision)


@router.post(
    "/{name}",
    operation_id="prompt_save",
    response_model=PromptSaved,
    responses={200: {"links": links(_SAME_PROMPT, read="prompt_get")}, **errors(404, body=True)},
)
async def save_prompt(name: str, body: PromptBody, ctx: Ctx, conn: DbConn) -> PromptSaved:
    return await prompts.save(ctx, conn, name, body.content)
