"""Long-term memory: GET /api/memory (list or search), DELETE /api/memory[/{id}]."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.api import memory
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import Deleted, Ok, errors
from services.api.schemas.memory import MemoryPage

router = APIRouter(prefix="/api/memory", dependencies=[Authorized])

CATEGORY_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


@router.get("", response_model=MemoryPage, response_model_exclude_unset=True, responses=errors(422))
async def list_memories(
    ctx: Ctx,
    conn: DbConn,
    search: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 80,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    category: Annotated[str | None, Query(pattern=CATEGORY_PATTERN)] = None,
) -> MemoryPage:
    return await memory.entries(
        ctx, conn, search=search, limit=limit, offset=offset, category=category
    )


@router.delete("", response_model=Deleted, responses=errors())
async def delete_all(conn: DbConn) -> Deleted:
    return Deleted(deleted=await memory.delete_all(conn))


@router.delete("/{memory_id}", response_model=Ok, responses=errors(404, 422))
async def delete_one(conn: DbConn, memory_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> Ok:
    await memory.delete_one(conn, memory_id)
    return Ok()
