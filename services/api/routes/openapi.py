"""GET /api/openapi.json: the API's OpenAPI document, for the owner only (it maps every route)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.api import openapi
from services.api.deps import Authorized
from services.api.schemas.common import errors

router = APIRouter(prefix="/api", dependencies=[Authorized])

_DOCUMENT = {"content": {"application/json": {"schema": {"type": "object"}}}}


@router.get(
    "/openapi.json",
    response_class=JSONResponse,
    responses={**errors(), 200: {"description": "this document (OpenAPI 3.1)", **_DOCUMENT}},
)
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(openapi.document(request.app))
