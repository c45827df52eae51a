"""Keys: GET/POST /api/keys, DELETE /api/keys/{name}."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import keys
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.keys import KeyDeleted, KeysResponse, KeysSaved, KeysUpdate

router = APIRouter(prefix="/api/keys", dependencies=[Authorized])


@router.get("", response_model=KeysResponse, responses=errors())
async def list_keys(ctx: Ctx, conn: DbConn) -> KeysResponse:
    return await keys.listing(ctx, conn)


@router.post("", response_model=KeysSaved, responses=errors(409, body=True))
async def save_keys(ctx: Ctx, conn: DbConn, body: KeysUpdate) -> KeysSaved:
    return KeysSaved(updated=await keys.save(ctx, conn, body.root))


@router.delete("/{name}", response_model=KeyDeleted, responses=errors(404))
async def delete_key(name: str, ctx: Ctx, conn: DbConn) -> KeyDeleted:
    await keys.delete(ctx, conn, name)
    return KeyDeleted(deleted=name)
