"""The owner's files: upload one (a worker reads its text), list them, fetch one's record or
its original bytes, delete one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from services.api import files
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import CHANNEL_PATTERN, ErrorBody, Ok, errors, links
from services.api.schemas.files import FILE_ID_PATTERN, FilePage, FileRecord, FileUploaded

router = APIRouter(prefix="/api/files", dependencies=[Authorized])
FileId = Annotated[str, Path(pattern=FILE_ID_PATTERN, description="the file's id")]

_UPLOAD_ERRORS = {
    **errors(body=True),
    415: {"model": ErrorBody, "description": "not a format AION reads"},
    422: {
        "model": ErrorBody,
        "description": "unreadable (damaged, encrypted, hostile) or a field missing: see detail",
    },
}
# What a client (or a fuzzer following links) does next with the file it uploaded.
_NEXT = links(
    {"file_id": "$response.body#/id"},
    record="file_get",
    content="file_content",
    index="file_index",
    index_state="file_index_state",
    delete="file_delete",
)


@router.post(
    "",
    status_code=201,
    response_model=FileUploaded,
    response_model_exclude_none=True,
    responses={
        201: {"links": _NEXT},
        202: {"model": FileUploaded, "description": "stored, still being read", "links": _NEXT},
        **_UPLOAD_ERRORS,
    },
)
async def upload(
    file: Annotated[UploadFile, File(description="the document (at most AION_FILE_MAX_BYTES)")],
    ctx: Ctx,
    conn: DbConn,
    channel: Annotated[str | None, Form(pattern=CHANNEL_PATTERN)] = None,
) -> FileUploaded | JSONResponse:
    answer, finished = await files.upload(ctx, conn, file, channel)
    if finished:
        return answer
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=202)


@router.get("", response_model=FilePage, responses=errors(422))
async def list_files(
    conn: DbConn,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> FilePage:
    return await files.page(conn, limit=limit, offset=offset)


@router.get(
    "/{file_id}", operation_id="file_get", response_model=FileRecord, responses=errors(404, 422)
)
async def get_file(file_id: FileId, conn: DbConn) -> FileRecord:
    return await files.one(conn, file_id)


@router.get(
    "/{file_id}/content",
    operation_id="file_content",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the original bytes"},
        **errors(404, 422),
    },
)
async def get_content(file_id: FileId, conn: DbConn) -> Response:
    stored, content = await files.content(conn, file_id)
    return Response(content, media_type=stored.mime, headers=files.download_headers(stored))


@router.delete(
    "/{file_id}", operation_id="file_delete", response_model=Ok, responses=errors(404, 422)
)
async def delete_file(file_id: FileId, conn: DbConn) -> Ok:
    await files.delete(conn, file_id)
    return Ok()
