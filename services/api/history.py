"""Past conversations of every channel: list and search, read, export, delete."""

from __future__ import annotations

import json
from typing import Literal

from services.api.conversations import channel_label
from services.api.errors import NotFound
from services.api.schemas.conversations import HistoryMessage
from services.api.schemas.history import ConversationDetail, ConversationList
from services.api.schemas.history import ConversationSummary as Summary
from shared.db import Conn
from shared.db import history as repo

ExportFormat = Literal["md", "json"]
_SPEAKERS = {"user": "You", "assistant": "AION"}


async def list_conversations(
    conn: Conn, channel: str | None, search: str | None, limit: int, before: int | None
) -> ConversationList:
    rows, has_more = await repo.list_conversations(
        conn, channel=channel, search=search, limit=limit, before=before
    )
    summaries = [
        Summary(
            id=r.id,
            channel=r.channel,
            title=r.title,
            started_at=r.started_at,
            last_at=r.last_at,
            messages=r.messages,
            open=r.open,
        )
        for r in rows
    ]
    return ConversationList(conversations=summaries, has_more=has_more)


async def read(conn: Conn, conversation_id: int) -> ConversationDetail:
    found = await repo.conversation(conn, conversation_id)
    if found is None:
        raise NotFound(f"No conversation {conversation_id}.")
    head, messages = found
    return ConversationDetail(
        id=head.id,
        channel=head.channel,
        title=head.title,
        open=head.open,
        started_at=head.started_at,
        messages=[
            HistoryMessage(role=m.role, content=m.content, timestamp=m.created_at) for m in messages
        ],
    )


def export(detail: ConversationDetail, fmt: ExportFormat) -> tuple[bytes, str, str]:
    """The file's bytes, media type and name."""
    name = f"aion-conversation-{detail.id}.{fmt}"
    if fmt == "json":
        body = json.dumps(detail.model_dump(mode="json"), ensure_ascii=False, indent=2)
        return body.encode() + b"\n", "application/json", name
    lines = [
        f"# {detail.title or 'Conversation ' + str(detail.id)}",
        "",
        f"{channel_label(detail.channel)} (`{detail.channel}`), started "
        f"{detail.started_at.isoformat(timespec='seconds')}",
    ]
    for message in detail.messages:
        when = message.timestamp.isoformat(timespec="seconds")
        lines += [
            "",
            f"## {_SPEAKERS.get(message.role, message.role)} · {when}",
            "",
            message.content,
        ]
    return ("\n".join(lines) + "\n").encode(), "text/markdown; charset=utf-8", name


async def delete(conn: Conn, conversation_id: int) -> None:
    if not await repo.delete_conversation(conn, conversation_id):
        raise NotFound(f"No conversation {conversation_id}.")
