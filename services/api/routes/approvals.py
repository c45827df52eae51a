"""Approvals: the owner approves (the turn goes on, streamed) or denies a risky tool call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sse_starlette import EventSourceResponse

from services.api import approvals
from services.api.deps import Authorized, Ctx, DbConn
from services.api.routes.chat import event_stream
from services.api.schemas.chat import ApprovalDecision, ApprovalDenied, PendingApprovals
from services.api.schemas.common import CHANNEL_PATTERN, errors
from services.api.schemas.events import event_stream_response
from shared.events import APPROVAL_ID

router = APIRouter(prefix="/api/approvals", dependencies=[Authorized])

ApprovalId = Annotated[
    str, Path(pattern=f"^{APPROVAL_ID.pattern}$", description="the approval's id")
]


@router.get("", response_model=PendingApprovals, responses=errors(422))
async def list_pending(
    conn: DbConn,
    channel: Annotated[str | None, Query(pattern=CHANNEL_PATTERN)] = None,
) -> PendingApprovals:
    return await approvals.pending(conn, channel)


# Approved: the resumed turn's stream; denied: a JSON answer naming the turn the model is told in.
_DECIDED = event_stream_response()
_DECIDED[200] |= {"model": ApprovalDenied, "description": "approved: SSE; denied: JSON"}


@router.post(
    "/{approval_id}",
    response_model=None,
    responses={**_DECIDED, **errors(404, 409, body=True)},
)
async def decide(
    approval_id: ApprovalId, body: ApprovalDecision, ctx: Ctx, conn: DbConn
) -> EventSourceResponse | ApprovalDenied:
    turn_id = await approvals.decide(ctx, conn, approval_id, body.approve)
    if body.approve:
        return event_stream(ctx, turn_id, None)
    # The model is told of the refusal in that turn; its answer lands in the channel history.
    return ApprovalDenied(job=turn_id)
