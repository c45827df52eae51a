"""Approvals: the owner approves (the turn goes on, streamed) or denies a risky tool call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from sse_starlette import EventSourceResponse

from services.api import approvals
from services.api.deps import Authorized, Ctx, DbConn
from services.api.routes.chat import event_stream
from services.api.schemas import ApprovalDecision
from shared.events import APPROVAL_ID

router = APIRouter(prefix="/api/approvals", dependencies=[Authorized])

ApprovalId = Annotated[
    str, Path(pattern=f"^{APPROVAL_ID.pattern}$", description="the approval's id")
]


@router.post("/{approval_id}", response_model=None)
async def decide(
    approval_id: ApprovalId, body: ApprovalDecision, ctx: Ctx, conn: DbConn
) -> EventSourceResponse | dict[str, Any]:
    turn_id = await approvals.decide(ctx, conn, approval_id, body.approve)
    if body.approve:
        return event_stream(ctx, turn_id, None)
    # The model is told of the refusal in that turn; its answer lands in the channel history.
    return {"ok": True, "job": turn_id}
