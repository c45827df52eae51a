"""Keys: GET/POST /api/keys, DELETE /api/keys/{name}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from services.api import keys
from services.api.deps import Authorized, Ctx, DbConn

router = APIRouter(prefix="/api/keys", dependencies=[Authorized])


@router.get("")
async def list_keys(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await keys.listing(ctx, conn)


@router.post("")
async def save_keys(
    ctx: Ctx, conn: DbConn, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    return {"ok": True, "updated": await keys.save(ctx, conn, body)}


@router.delete("/{name}")
async def delete_key(name: str, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    await keys.delete(ctx, conn, name)
    return {"ok": True, "deleted": name}
