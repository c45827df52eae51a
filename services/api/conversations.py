"""History, channels and reset: read and close the per-channel conversations."""

from __future__ import annotations

from services.api.schemas.conversations import ChannelInfo, HistoryMessage
from shared.db import Conn
from shared.db import conversations as repo


def channel_label(channel: str) -> str:
    """A name a person recognises: `telegram:123` → `Telegram 123`."""
    kind, _, rest = channel.partition(":")
    named = {"web": "Web", "telegram": "Telegram", "alexa": "Alexa", "voice": "Voice"}
    label = named.get(kind, kind)
    return f"{label} {rest}" if rest else label


async def history(conn: Conn, channel: str, limit: int) -> list[HistoryMessage]:
    messages = await repo.channel_history(conn, channel, limit)
    return [
        HistoryMessage(role=m.role, content=m.content, timestamp=m.created_at) for m in messages
    ]


async def channels(conn: Conn) -> list[ChannelInfo]:
    return [
        ChannelInfo(
            id=s.channel,
            label=channel_label(s.channel),
            count=s.count,
            last_ts=s.last_ts,
            last_msg=s.last_msg[:200] if s.last_msg else s.last_msg,
        )
        for s in await repo.channel_summaries(conn)
    ]


async def reset(conn: Conn, channel: str) -> None:
    await repo.close_conversation(conn, channel)
