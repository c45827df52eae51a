"""The fake Bot API server: routes, long polling, injected failures and the test-facing API."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakellm.server import bind_socket
from tests.faketelegram.methods import ApiError, BotApi
from tests.faketelegram.requests import BadRequest, read_params
from tests.faketelegram.state import Bot, BotMessage, Call, Failure, Upload
from tests.faketelegram.wire import chat_object, command_entities, now, user_object

T = TypeVar("T")
UNAUTHORIZED = ApiError(401, "Unauthorized")
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
# What Telegram sends when allowed_updates is not given (or empty).
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class _Poll:
    """One getUpdates request held open; woken through its event from any thread."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.event.set)


class FakeTelegram(BotApi):
    """A local Bot API server for `python-telegram-bot` and friends.

    `conflict` says what two concurrent getUpdates for one token do: "terminate_older" (what
    Telegram's server does: the newer request takes over, the one held open gets 409) or
    "reject_newer" (the newcomer gets 409 straight away).
    """

    def __init__(self, conflict: Literal["terminate_older", "reject_newer"] = "terminate_older"):
        super().__init__()
        self.conflict = conflict
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._bot_ids = itertools.count(8_000_000_001)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

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
            queued = self._failures.get(name)
            failure = queued.popleft() if queued else None
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

    def _deliverable(self, bot: Bot, offset: int | None, limit: int) -> list[dict[str, Any]]:
        if offset is not None:
            if offset < 0:  # the last -offset updates; the others are forgotten
                while len(bot.updates) > -offset:
                    bot.updates.popleft()
            else:  # calling with an offset confirms every update before it
                while bot.updates and bot.updates[0]["update_id"] < offset:
                    bot.updates.popleft()
        allowed = set(bot.allowed_updates or ())

        def wanted(update: dict[str, Any]) -> bool:
            kind = next(k for k in update if k != "update_id")
            return kind in allowed if allowed else kind not in DEFAULT_EXCLUDED

        # Telegram does not even create the updates a bot said it does not want.
        kept = [u for u in bot.updates if wanted(u)]
        bot.updates = deque(kept)
        return copy.deepcopy(kept[:limit])

    async def _get_updates(self, bot: Bot, params: dict[str, Any], request: Request) -> Any:
        offset = params.get("offset")
        offset = int(offset) if offset not in (None, "") else None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        poll = _Poll(asyncio.get_running_loop())
        with self._lock:
            if bot.webhook_url:
                raise ApiError(409, WEBHOOK_ACTIVE)
            bot.poll_count += 1
            if params.get("allowed_updates") is not None:
                bot.allowed_updates = list(params["allowed_updates"])
            held = bot.poller if isinstance(bot.poller, _Poll) else None
        if held is not None:
            # A client that stopped polling may not have been noticed yet (PTB's last
            # confirming getUpdates comes right after it drops the long poll): let the held
            # request check, and only call it a conflict when it is still there.
            held.wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.released.wait(), 0.5)
        with self._lock:
            if isinstance(bot.poller, _Poll):
                bot.conflicts += 1
                if self.conflict == "reject_newer":
                    raise ApiError(409, CONFLICT)
                bot.poller.terminated = True
                bot.poller.wake()
            bot.poller = poll
        deadline = time.monotonic() + timeout
        try:
            while True:
                poll.event.clear()
                with self._lock:
                    if poll.terminated:
                        raise ApiError(409, CONFLICT)
                    ready = self._deliverable(bot, offset, limit)
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.event.wait(), min(remaining, 0.2))
                if await request.is_disconnected():
                    return []  # the client gave up (stopped polling): free the slot now
        finally:
            with self._lock:
                if bot.poller is poll:
                    bot.poller = None
            poll.released.set()

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
        if bot is not None and isinstance(bot.poller, _Poll):
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
    ) -> None:
        """The next `times` calls of `method` (any token) fail. 429 gets Telegram's body with
        `parameters.retry_after` (default 1 s)."""
        if status == 429:
            retry_after = retry_after if retry_after is not None else 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        failure = Failure(status, description or "Bad Request", retry_after)
        with self._lock:
            self._failures.setdefault(method.lower(), deque()).extend([failure] * times)

    def _bot(self, token: str) -> Bot:
        bot = self._bots.get(token)
        if bot is None:
            raise KeyError(f"unknown token {token!r}: add_token() it first")
        return bot

    def _queue(self, token: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            bot = self._bot(token)
            update = {"update_id": bot.next_update_id, kind: payload}
            bot.next_update_id += 1
            bot.updates.append(update)
            poller = bot.poller
        if isinstance(poller, _Poll):
            poller.wake()
        return copy.deepcopy(update)

    def _user_message(
        self, token: str, user_id: int, chat_id: int, username: str | None, first_name: str
    ) -> dict[str, Any]:
        user = user_object(user_id, username=username, first_name=first_name)
        with self._lock:
            chat = self._chats.setdefault(chat_id, chat_object(chat_id, user))
            message_id = self._next_message_id(token, chat_id)
        return {"message_id": message_id, "from": user, "chat": chat, "date": now()}

    def add_chat(
        self, chat_id: int, user_id: int | None = None, username: str | None = None
    ) -> None:
        """Let the bot write to `chat_id` without a user message first."""
        user = user_object(user_id or chat_id, username=username)
        with self._lock:
            self._chats.setdefault(chat_id, chat_object(chat_id, user))

    def send_text(
        self,
        token: str,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        username: str | None = None,
        first_name: str = "Owner",
    ) -> dict[str, Any]:
        """A user writes `text` (commands get `bot_command` entities); returns the Update."""
        message = self._user_message(token, user_id, chat_id, username, first_name)
        message["text"] = text
        if entities := command_entities(text):
            message["entities"] = entities
        return self._queue(token, "message", message)

    def _register(self, data: bytes, folder: str) -> dict[str, Any]:
        with self._lock:
            stored = self._store_file(data, folder)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }

    def send_voice(
        self,
        token: str,
        user_id: int,
        chat_id: int,
        ogg_bytes: bytes,
        duration: int = 1,
        *,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a voice note (OGG/Opus); its file can be fetched with getFile."""
        message = self._user_message(token, user_id, chat_id, username, "Owner")
        message["voice"] = {
            **self._register(ogg_bytes, "voice"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._queue(token, "message", message)

    def send_audio(
        self,
        token: str,
        user_id: int,
        chat_id: int,
        data: bytes,
        duration: int = 1,
        *,
        file_name: str = "audio.mp3",
        mime_type: str = "audio/mpeg",
        username: str | None = None,
    ) -> dict[str, Any]:
        """A user sends an audio file (music player style, not a voice note)."""
        message = self._user_message(token, user_id, chat_id, username, "Owner")
        audio = {**self._register(data, "music"), "duration": duration}
        message["audio"] = {**audio, "file_name": file_name, "mime_type": mime_type}
        return self._queue(token, "message", message)

    def send_photo(
        self,
        token: str,
        user_id: int,
        chat_id: int,
        data: bytes,
        *,
        width: int = 1280,
        height: int = 960,
        caption: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a photo: Telegram's list of sizes, smallest first (the fake stores the
        same bytes for every size; the largest is the original)."""
        message = self._user_message(token, user_id, chat_id, username, "Owner")
        sizes = []
        for side in (90, 320, 800, max(width, height)):
            scale = min(side / max(width, height), 1.0)
            sizes.append(
                {
                    **self._register(data, "photos"),
                    "width": round(width * scale),
                    "height": round(height * scale),
                }
            )
            if scale == 1.0:
                break
        message["photo"] = sizes
        if caption:
            message["caption"] = caption
        return self._queue(token, "message", message)

    def send_document(
        self,
        token: str,
        user_id: int,
        chat_id: int,
        file_name: str,
        mime_type: str,
        data: bytes,
        *,
        caption: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a file as a document."""
        message = self._user_message(token, user_id, chat_id, username, "Owner")
        message["document"] = {
            **self._register(data, "documents"),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        if caption:
            message["caption"] = caption
        return self._queue(token, "message", message)

    def press_button(
        self,
        token: str,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A user presses an inline button of a bot message: a callback_query update."""
        with self._lock:
            msg = self._messages.get((token, chat_id, message_id))
            if msg is None or msg.deleted:
                raise KeyError(f"no bot message {message_id} in chat {chat_id}")
            query_id = str(next(self._query_ids))
            self._callbacks[query_id] = {"token": token, "answered": False, "data": callback_data}
            message = copy.deepcopy(msg.object)
        query = {
            "id": query_id,
            "from": user_object(user_id, username=username),
            "message": message,
            "chat_instance": str(-abs(chat_id) * 7 % 10**19),
            "data": callback_data,
        }
        return self._queue(token, "callback_query", query)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """What the bot answered to a button press (`answered`, `text`, `show_alert`)."""
        with self._lock:
            query = self._callbacks.get(str(query_id))
            return dict(query) if query else None

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

    def poll_count(self, token: str) -> int:
        with self._lock:
            return self._bot(token).poll_count

    def polling(self, token: str) -> bool:
        """Whether a getUpdates for `token` is being held open right now."""
        with self._lock:
            bot = self._bots.get(token)
            return bot is not None and bot.poller is not None

    def conflicts(self, token: str) -> int:
        """How many times two getUpdates for `token` overlapped."""
        with self._lock:
            return self._bot(token).conflicts

    def pending_updates(self, token: str) -> int:
        with self._lock:
            return len(self._bot(token).updates)

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

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve from a background thread (a restart keeps the port)."""
        sock = bind_socket(port=self._port)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = self._server = uvicorn.Server(config)

        def run() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._thread = threading.Thread(target=run, name="faketelegram", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Telegram did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
