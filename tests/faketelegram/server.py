"""The fake Bot API server: routes, long polling, injected failures and the test-facing API."""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.background_server import BackgroundServer
from tests.faketelegram.methods import ApiError
from tests.faketelegram.polling import HeldPoll
from tests.faketelegram.requests import BadRequest, read_params
from tests.faketelegram.state import Bot, BotMessage, Call, Failure, Upload
from tests.faketelegram.users import Users

T = TypeVar("T")
UNAUTHORIZED = ApiError(401, "Unauthorized")


class FakeTelegram(Users, BackgroundServer):
    """A local Bot API server for `python-telegram-bot` and friends.

    `conflict` says what two concurrent getUpdates for one token do: "terminate_older" (what
    Telegram's server does: the newer request takes over, the one held open gets 409) or
    "reject_newer" (the newcomer gets 409 straight away).
    """

    server_name = "fake Telegram"

    def __init__(self, conflict: Literal["terminate_older", "reject_newer"] = "terminate_older"):
        super().__init__(conflict)
        self._bot_ids = itertools.count(8_000_000_001)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # --- HTTP ---------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        at = time.monotonic()
        params: dict[str, Any] = {}
        uploads: dict[str, Upload] = {}
        try:
            params, uploads = await read_params(request)
            result = await self._dispatch(token, method, params, uploads, request)
        except BadRequest as exc:
            error = ApiError(400, f"Bad Request: {exc}")
        except ApiError as exc:
            error = exc
        else:
            self._record(Call(method, token, params, at, 200, result, uploads))
            return JSONResponse({"ok": True, "result": result})
        self._record(Call(method, token, params, at, error.status, error.body(), uploads))
        return JSONResponse(error.body(), status_code=error.status)

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    async def _dispatch(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        uploads: dict[str, Upload],
        request: Request,
    ) -> Any:
        name = method.lower()  # Telegram's method names are case-insensitive
        with self._lock:
            bot = self._bots.get(token)
            if bot is None:
                raise UNAUTHORIZED
            queued = self._failures.get(name) or deque()
            failure = next((f for f in queued if f.token in (None, token)), None)
            if failure is not None:
                queued.remove(failure)
        if failure is not None:
            parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
            raise ApiError(failure.status, failure.description, parameters)
        if name == "getupdates":
            return await self._get_updates(bot, params, request)
        with self._lock:
            if name in ("sendvoice", "sendaudio", "senddocument", "sendphoto"):
                return self.send_media(bot, params, uploads, name.removeprefix("send"))
            handler = self._handlers().get(name)
            if handler is None:
                raise ApiError(404, "Not Found")
            return handler(bot, params)

    def _handlers(self) -> dict[str, Callable[[Bot, dict[str, Any]], Any]]:
        return {
            "getme": self.get_me,
            "logout": lambda bot, params: True,
            "close": lambda bot, params: True,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "sendchataction": self.send_chat_action,
            "answercallbackquery": self.answer_callback_query,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "getfile": self.get_file,
        }

    async def _download(self, request: Request) -> Response:
        token, path = request.path_params["token"], request.path_params["path"]
        with self._lock:
            known = token in self._bots
            stored = next((f for f in self._files.values() if f.file_path == path), None)
        if not known:
            return JSONResponse(UNAUTHORIZED.body(), status_code=401)
        if stored is None:
            return JSONResponse(ApiError(404, "Not Found").body(), status_code=404)
        return Response(stored.data, media_type="application/octet-stream")

    # --- long polling ---------------------------------------------------------------------

    # --- test-facing API --------------------------------------------------------------------

    def add_token(
        self, token: str, bot_username: str = "aion_test_bot", *, bot_id: int | None = None
    ) -> int:
        """Make `token` valid, for a bot called `bot_username`; returns the bot's user id."""
        with self._lock:
            bot = Bot(
                token,
                bot_id or next(self._bot_ids),
                bot_username,
                bot_username.removesuffix("_bot").title(),
            )
            self._bots[token] = bot
            return bot.id

    def revoke_token(self, token: str) -> None:
        """The token stops working (401), as after /revoke in BotFather."""
        with self._lock:
            bot = self._bots.pop(token, None)
        if bot is not None and isinstance(bot.poller, HeldPoll):
            bot.poller.terminated = True
            bot.poller.wake()

    def token_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._bots

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        token: str | None = None,
    ) -> None:
        """The next `times` calls of `method` (by `token`, or any bot) fail. 429 gets Telegram's
        body with `parameters.retry_after` (default 1 s); other statuses get `description`."""
        if status == 429:
            retry_after = retry_after if retry_after is not None else 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        failure = Failure(status, description or "Bad Request", retry_after, token)
        with self._lock:
            self._failures.setdefault(method.lower(), deque()).extend([failure] * times)

    def calls(self, method: str | None = None, token: str | None = None) -> list[Call]:
        """The recorded requests (oldest first), optionally of one method and/or token."""
        with self._lock:
            return [
                c
                for c in self._calls
                if (method is None or c.method.lower() == method.lower())
                and (token is None or c.token == token)
            ]

    def chat_messages(self, chat_id: int, token: str | None = None) -> list[BotMessage]:
        """Every message the bot sent to `chat_id`, in order, as it stands now (edits applied,
        deleted ones flagged)."""
        with self._lock:
            found = [
                m
                for (t, c, _), m in self._messages.items()
                if c == chat_id and (token is None or t == token)
            ]
            return copy.deepcopy(sorted(found, key=lambda m: (m.sent_at, m.message_id)))

    def commands(
        self, token: str, scope: str = "default", language_code: str = ""
    ) -> list[dict[str, str]]:
        with self._lock:
            return list(self._bot(token).commands.get(f"{scope}:{language_code}", []))

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01
    ) -> T:
        """Poll `predicate` until it returns something truthy (returned); TimeoutError after
        `timeout`. Blocks the thread: from async tests use `async_wait_for`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)

    async def async_wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01
    ) -> T:
        """`wait_for` that lets the event loop run (a bot in the same loop keeps working)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(interval)
