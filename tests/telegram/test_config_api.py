"""GET/POST /api/telegram/config: validation, the token kept in the vault and never shown."""

from __future__ import annotations

import httpx
import psycopg

from tests.telegram.tokens import bot_token

BIG_ID = 7_000_000_001  # Telegram ids exceed 32 bits


async def test_token_and_ids_are_stored_and_the_token_never_shown(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[object, ...]]
) -> None:
    token = bot_token(1)
    answer = await client.post(
        "/api/telegram/config", json={"token": token, "allowed_ids": [BIG_ID, "42"]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True
    assert answer.json()["polling_active"] is False  # no telegram service runs in this test
    body = (await client.get("/api/telegram/config")).json()
    assert body["token_set"] is True
    assert body["token_masked"] == f"{token[:4]}…{token[-4:]}"
    assert body["allowed_ids"] == ["42", str(BIG_ID)]
    assert body["polling_active"] is False
    for response in (
        answer,
        await client.get("/api/telegram/config"),
        await client.get("/api/keys"),
    ):
        assert token not in response.text
    row = await (
        await db.execute("SELECT ciphertext FROM secrets WHERE name = 'TELEGRAM_BOT_TOKEN'")
    ).fetchone()
    assert row is not None and isinstance(row[0], bytes) and token.encode() not in row[0]
    cur = await db.execute("SELECT user_id FROM telegram_allowed_users ORDER BY user_id")
    assert [r[0] for r in await cur.fetchall()] == [42, BIG_ID]

    # Partial updates keep the rest; an empty list lets nobody in; "" clears the token.
    assert (await client.post("/api/telegram/config", json={"allowed_ids": []})).status_code == 200
    body = (await client.get("/api/telegram/config")).json()
    assert body["allowed_ids"] == [] and body["token_set"] is True
    assert (await client.post("/api/telegram/config", json={"token": ""})).status_code == 200
    body = (await client.get("/api/telegram/config")).json()
    assert body["token_set"] is False and body["token_masked"] == ""


async def test_bad_input_is_a_422_that_says_what_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    good = bot_token(2)
    assert (
        await client.post("/api/telegram/config", json={"token": good, "allowed_ids": [5]})
    ).status_code == 200
    cases = [
        ({"token": "not-a-token"}, "token"),
        ({"token": "123:short"}, "token"),
        ({"token": f"{good}\n"[:-1] + " x"}, "token"),
        ({"allowed_ids": ["12a"]}, "allowed_ids"),
        ({"allowed_ids": [-5]}, "allowed_ids"),
        ({"allowed_ids": [0]}, "allowed_ids"),
        ({"allowed_ids": [2**63]}, "allowed_ids"),
        ({"allowed_ids": [True]}, "allowed_ids"),
        ({"allowed_ids": "5"}, "allowed_ids"),
        ({"token": bot_token(3), "allowed_ids": ["x"]}, "allowed_ids"),
        ({"tokn": good}, "tokn"),
        ({"group_chats": [5]}, "group_chats"),
        ({"group_chats": ["-x1"]}, "group_chats"),
        ({"owner_chat": 6}, "owner_chat"),  # not an allowed user
        ({"owner_chat": -100}, "owner_chat"),  # not a listed group
        ({"allowed_ids": [6], "owner_chat": 5}, "owner_chat"),  # no longer allowed
        ({"owner_chat": "five"}, "owner_chat"),
    ]
    for body, field in cases:
        response = await client.post("/api/telegram/config", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["detail"], (body, response.json())
        assert good not in response.text
    after = (await client.get("/api/telegram/config")).json()
    assert after["allowed_ids"] == ["5"] and after["group_chats"] == []
    assert after["owner_chat"] is None
    assert after["token_masked"] == f"{good[:4]}…{good[-4:]}"  # the rejected token did not land
    await client.post("/api/telegram/config", json={"token": None, "allowed_ids": []})


async def test_needs_the_owner_token(anonymous: httpx.AsyncClient) -> None:
    for method in ("GET", "POST"):
        response = await anonymous.request(method, "/api/telegram/config", json={})
        assert response.status_code == 401


async def test_the_owners_chat_is_a_setting_the_bot_config_follows(
    client: httpx.AsyncClient,
) -> None:
    """Answers with no chat of their own go to the chat the owner chose (else the first allowed
    user's), never to whichever chat spoke last."""
    group = -1_001_234_567_890
    body = {"allowed_ids": [11, 12], "group_chats": [str(group)], "owner_chat": group}
    assert (await client.post("/api/telegram/config", json=body)).status_code == 200
    shown = (await client.get("/api/telegram/config")).json()
    assert shown["owner_chat"] == str(group) and shown["group_chats"] == [str(group)]
    handed = (await client.get("/api/telegram/bot")).json()
    assert handed["owner_chat"] == str(group) and handed["group_chats"] == [str(group)]

    cleared: dict[str, object] = {"owner_chat": None, "group_chats": []}
    assert (await client.post("/api/telegram/config", json=cleared)).status_code == 200
    assert (await client.get("/api/telegram/bot")).json()["owner_chat"] == "11"
    await client.post("/api/telegram/config", json={"allowed_ids": []})
    assert (await client.get("/api/telegram/bot")).json()["owner_chat"] is None
