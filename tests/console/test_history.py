"""The history API: past conversations of every channel, newest first, searched by full text,
read, exported as Markdown or JSON, deleted."""

from __future__ import annotations

import json

import httpx
import psycopg

from tests.helpers import chat

Db = psycopg.AsyncConnection[tuple[object, ...]]


async def conversation(
    db: Db, channel: str, messages: list[tuple[str, str]], *, closed: bool = True
) -> int:
    """A stored conversation with these (role, content) messages; its id."""
    cur = await db.execute(
        "INSERT INTO conversations (channel, closed_at) "
        "VALUES (%s, CASE WHEN %s THEN now() END) RETURNING id",
        (channel, closed),
    )
    row = await cur.fetchone()
    assert row is not None
    conversation_id = int(str(row[0]))
    for role, content in messages:
        await db.execute(
            "INSERT INTO messages (conversation_id, role, content) VALUES (%s, %s, %s)",
            (conversation_id, role, content),
        )
    return conversation_id


async def test_a_chat_shows_up_as_an_open_conversation_and_reads_back(
    client: httpx.AsyncClient, channel: str
) -> None:
    await chat(client, "Hello history [[tokens=3]]", channel)
    listed = await client.get("/api/conversations", params={"channel": channel})
    assert listed.status_code == 200
    body = listed.json()
    assert body["has_more"] is False
    [summary] = body["conversations"]
    assert set(summary) == {"id", "channel", "title", "started_at", "last_at", "messages", "open"}
    assert summary["channel"] == channel and summary["open"] is True
    assert summary["messages"] == 2 and summary["title"] == "Hello history [[tokens=3]]"
    detail = (await client.get(f"/api/conversations/{summary['id']}")).json()
    assert detail["id"] == summary["id"] and detail["open"] is True
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["content"].split() == ["t0", "t1", "t2"]
    assert set(detail["messages"][0]) == {"role", "content", "timestamp"}


async def test_newest_first_paged_with_before(
    client: httpx.AsyncClient, db: Db, channel: str
) -> None:
    ids = [await conversation(db, channel, [("user", f"number {n}")]) for n in range(5)]
    seen: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, str | int] = {"channel": channel, "limit": 2}
        if before is not None:
            params["before"] = before
        page = (await client.get("/api/conversations", params=params)).json()
        seen += [c["id"] for c in page["conversations"]]
        if not page["has_more"]:
            break
        before = seen[-1]
    assert seen == ids[::-1]
    for bad in ({"limit": 0}, {"limit": 201}, {"before": "x"}, {"channel": "no spaces"}):
        assert (await client.get("/api/conversations", params=bad)).status_code == 422


async def test_search_is_full_text_over_what_was_said_by_word_prefix(
    client: httpx.AsyncClient, db: Db, channel: str
) -> None:
    word = "zebrafinch" + channel[-6:]
    hit_user = await conversation(db, channel, [("user", f"Tell me about the {word}s please")])
    hit_reply = await conversation(
        db, channel, [("user", "what bird?"), ("assistant", f"Probably a {word.upper()}.")]
    )
    await conversation(db, channel, [("user", "nothing of the kind")])
    await conversation(
        db, channel, [("user", "a tool said"), ("tool", f"{word} in a tool result only")]
    )

    async def found(search: str) -> list[int]:
        params = {"channel": channel, "search": search}
        response = await client.get("/api/conversations", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["conversations"]]

    assert await found(word) == [hit_reply, hit_user]
    assert await found(word[:6]) == [hit_reply, hit_user]  # as it is being typed
    assert await found(f"probably {word}") == [hit_reply]  # a message with every word
    assert await found(f"{word} bird") == []
    assert await found("'); DROP TABLE messages; --") == []
    assert await found("&|!:*") == []
    # Across every channel when none is named.
    everywhere = await client.get("/api/conversations", params={"search": word})
    assert {c["id"] for c in everywhere.json()["conversations"]} == {hit_reply, hit_user}


async def test_search_uses_the_full_text_index(db: Db) -> None:
    await db.execute("SET enable_seqscan = off")
    try:
        cur = await db.execute(
            "EXPLAIN SELECT m.conversation_id FROM messages m "
            "WHERE m.role IN ('user', 'assistant') "
            "AND to_tsvector('simple', m.content) @@ to_tsquery('simple', 'hello:*')"
        )
        plan = "\n".join(str(row[0]) for row in await cur.fetchall())
    finally:
        await db.execute("RESET enable_seqscan")
    assert "messages_text_search" in plan, plan


async def test_export_as_markdown_and_json_downloads(
    client: httpx.AsyncClient, db: Db, channel: str
) -> None:
    conversation_id = await conversation(
        db, channel, [("user", "Export *me*"), ("assistant", "Done: `ok`")]
    )
    md = await client.get(f"/api/conversations/{conversation_id}/export", params={"format": "md"})
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == (
        f'attachment; filename="aion-conversation-{conversation_id}.md"'
    )
    assert md.text.startswith("# Export *me*\n")
    assert "## You · " in md.text and "## AION · " in md.text and "Done: `ok`" in md.text
    exported = await client.get(
        f"/api/conversations/{conversation_id}/export", params={"format": "json"}
    )
    assert exported.headers["content-disposition"].endswith(f'{conversation_id}.json"')
    data = json.loads(exported.content)
    assert data == (await client.get(f"/api/conversations/{conversation_id}")).json()
    bad = await client.get(f"/api/conversations/{conversation_id}/export", params={"format": "pdf"})
    assert bad.status_code == 422


async def test_delete_removes_it_with_its_messages(
    client: httpx.AsyncClient, db: Db, channel: str
) -> None:
    conversation_id = await conversation(db, channel, [("user", "forget me")])
    assert (await client.delete(f"/api/conversations/{conversation_id}")).json() == {"ok": True}
    assert (await client.get(f"/api/conversations/{conversation_id}")).status_code == 404
    assert (await client.delete(f"/api/conversations/{conversation_id}")).status_code == 404
    cur = await db.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = %s", (conversation_id,)
    )
    assert (await cur.fetchone()) == (0,)
    assert (await client.get("/api/conversations/999999999999")).status_code == 404


async def test_history_needs_the_owner(anonymous: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/api/conversations"),
        ("GET", "/api/conversations/1"),
        ("GET", "/api/conversations/1/export"),
        ("DELETE", "/api/conversations/1"),
    ):
        assert (await anonymous.request(method, path)).status_code == 401
