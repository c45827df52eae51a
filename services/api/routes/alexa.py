"""POST /api/alexa: public (no bearer token), but only Amazon-signed requests for our skill.

The front gate has already insisted on JSON and bounded the body (256 KiB on a public route,
the same as Alexa's own limit, checked again here). The verifier needs the raw bytes as they were
signed, so the body is read here, never parsed by FastAPI first.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from services.api.alexa import skill
from services.api.alexa.models import AlexaResponse
from services.api.alexa.verify import refuse_replays
from services.api.deps import Ctx
from services.api.errors import PayloadTooLarge
from services.api.schemas.common import errors

router = APIRouter()

MAX_ALEXA_BODY_BYTES = 256 * 1024


async def _raw_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ALEXA_BODY_BYTES:
            raise PayloadTooLarge(f"An Alexa request is at most {MAX_ALEXA_BODY_BYTES} bytes.")
    return body


@router.post(
    "/api/alexa",
    response_model=AlexaResponse,
    response_model_exclude_none=True,
    responses=errors(400, 401, 413, 415, public=True),
)
async def alexa(request: Request, ctx: Ctx) -> AlexaResponse:
    deadline = asyncio.get_running_loop().time() + ctx.settings.aion_alexa_answer_seconds
    envelope = await ctx.alexa.verify(
        request.headers.get("SignatureCertChainUrl"),
        request.headers.get("Signature-256"),
        await _raw_body(request),
    )
    await refuse_replays(ctx.redis, envelope)
    return await skill.answer(ctx, envelope, deadline)
