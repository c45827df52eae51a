"""The knowledge base: POST/GET /api/files/{id}/index, GET /api/knowledge/search.

The files themselves (upload, list, delete) are services/api/routes/files.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.api import knowledge
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.files import FILE_ID_PATTERN
from services.api.schemas.knowledge import IndexState, KnowledgeResults

router = APIRouter(dependencies=[Authorized])

FileId = Annotated[str, Path(pattern=FILE_ID_PATTERN, description="the file's id")]


@router.post(
    "/api/files/{file_id}/index",
    operation_id="file_index",
    response_model=IndexState,
    status_code=200,
    responses={
        202: {"model": IndexState, "description": "still indexing; poll the Location"},
        **errors(404, 409, 422),
    },
)
async def index_file(ctx: Ctx, file_id: FileId, response: Response) -> IndexState:
    """Index (again) a file into the knowledge base: its chunks replace any earlier ones at
    once. 200 with the counts when done in time, else 202 while a worker goes on; 409 while
    its text is not extracted (or could not be); 422 when it cannot be indexed."""
    state = await knowledge.index(ctx, file_id)
    if state.status == "indexing":
        response.status_code = 202
        response.headers["Location"] = f"/api/files/{file_id}/index"
    return state


@router.get(
    "/api/files/{file_id}/index",
    operation_id="file_index_state",
    response_model=IndexState,
    responses=errors(404, 422),
)
async def index_state(conn: DbConn, file_id: FileId) -> IndexState:
    """Where the file stands in the knowledge base."""
    return await knowledge.state(conn, file_id)


@router.get("/api/knowledge/search", response_model=KnowledgeResults, responses=errors(422))
async def search(
    ctx: Ctx,
    conn: DbConn,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="what to look for")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    file_id: Annotated[
        list[str] | None, Query(max_length=50, description="only these files (repeatable)")
    ] = None,
) -> KnowledgeResults:
    """The best passages of the indexed documents, with the file and page to cite."""
    return await knowledge.search(ctx, conn, q, limit=limit, file_ids=file_id)
