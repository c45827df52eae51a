"""The owner's decision on a pending approval, taken exactly once, and the turn that follows."""

from __future__ import annotations

from services.api import turns
from services.api.context import AppContext
from services.api.errors import Conflict, NotFound
from services.api.schemas.chat import PendingApproval, PendingApprovals
from shared.db import Conn
from shared.db import approvals as repo
from shared.jobs import ResumeApproval, TurnJob


async def decide(
    ctx: AppContext, conn: Conn, approval_id: str, approve: bool, *, via: str = "api"
) -> str:
    """Record the decision and queue the turn that continues from it; returns that turn's id.

    `via` is stored with the decision: who took it ("api", "alexa").

    A second decision, a race lost to another replica or a chat answer, or an expired
    approval is a 409; the continuation is queued only by the one decider that won.
    """
    decided = await repo.decide(conn, approval_id, "approved" if approve else "denied", via)
    if decided is None:
        existing = await repo.get(conn, approval_id)
        if existing is None:
            raise NotFound(f"No approval '{approval_id}'.")
        if existing.status != "pending":
            raise Conflict(f"Approval '{approval_id}' was already {existing.status}.")
        raise Conflict(f"Approval '{approval_id}' expired at {existing.expires_at.isoformat()}.")
    job = TurnJob(
        turn_id=turns.new_turn_id(),
        channel=decided.channel,
        message="",
        resume=ResumeApproval(approval_id=approval_id, approved=approve),
        enqueued_at_ms=turns.now_ms(),
    )
    try:
        return await turns.enqueue_turn(ctx, job)
    except BaseException:
        # Nothing will continue the turn: leave the decision to be made again.
        await repo.undo_decision(conn, approval_id, via)
        raise


async def pending(conn: Conn, channel: str | None) -> PendingApprovals:
    """What still waits for the owner: a console shows these again after a reload."""
    waiting = await repo.pending(conn, channel)
    return PendingApprovals(
        approvals=[
            PendingApproval(
                id=a.id,
                channel=a.channel,
                tool=a.tool,
                args=a.args,
                expires_at=a.expires_at.isoformat(),
            )
            for a in waiting
        ]
    )
