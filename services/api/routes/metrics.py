"""Prometheus metrics of this api process, behind the owner's token."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.api import metrics
from services.api.deps import Authorized, Ctx

router = APIRouter(dependencies=[Authorized])


# Prometheus text, for the scraper: outside the OpenAPI document.
@router.get("/metrics", include_in_schema=False, response_class=Response)
async def get_metrics(ctx: Ctx) -> Response:
    body, content_type = await metrics.exposition(ctx)
    return Response(body, media_type=content_type)
