"""The fake Bot API as a container of the compose test, with a small HTTP side for the test.

In-process tests drive tests/faketelegram through its Python methods; the compose test runs it
in a container next to the real telegram service, so what a user does in Telegram, and what
the bot sent back, cross HTTP here:

    POST /_test/tokens                  {"token"}                        a valid bot token
    POST /_test/messages                {"token", "user_id", "text"}     a user writes
    GET  /_test/chats/{chat_id}         the bot's messages in that chat (text as it stands)

    python -m tests.compose.fake_telegram_server --port 8081
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.faketelegram import FakeTelegram


def with_test_side(fake: FakeTelegram) -> FakeTelegram:
    async def add_token(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"bot_id": fake.add_token(str(body["token"]))})

    async def send(request: Request) -> JSONResponse:
        body = await request.json()
        user = int(body["user_id"])
        fake.send_text(str(body["token"]), user, user, str(body["text"]))
        return JSONResponse({"ok": True})

    async def chat(request: Request) -> JSONResponse:
        chat_id = int(request.path_params["chat_id"])
        messages: list[dict[str, Any]] = [
            {"kind": m.kind, "text": m.plain or m.text, "deleted": m.deleted}
            for m in fake.chat_messages(chat_id)
        ]
        return JSONResponse({"messages": messages})

    fake.app.router.routes.extend(
        [
            Route("/_test/tokens", add_token, methods=["POST"]),
            Route("/_test/messages", send, methods=["POST"]),
            Route("/_test/chats/{chat_id}", chat, methods=["GET"]),
        ]
    )
    return fake


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")  # inside its container
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    fake = with_test_side(FakeTelegram())
    uvicorn.run(fake.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
