"""The Bot API methods other than getUpdates: checks and answers as Telegram gives them.

`BotApi` holds the state; every handler runs with its lock held and either returns the
method's `result` or raises `ApiError` (Telegram's `ok: false` answer).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from typing import Any

from tests.faketelegram.html import EntityError, parse_entities
from tests.faketelegram.state import (
    Bot,
    BotMessage,
    Call,
    Delivery,
    Edit,
    Failure,
    StoredFile,
    Upload,
)
from tests.faketelegram.wire import now

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
MEDIA_KINDS = ("voice", "audio", "document", "photo")


class ApiError(Exception):
    """An `ok: false` answer."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def _int(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(f"{name} is empty" if name != "chat_id" else "chat not found")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("chat not found" if name == "chat_id" else f"invalid {name}") from None


class BotApi:
    """State shared by the handlers and the test-facing API; guarded by `_lock`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bots: dict[str, Bot] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._message_ids: dict[tuple[str, int], itertools.count[int]] = {}
        self._messages: dict[tuple[str, int, int], BotMessage] = {}
        self._files: dict[str, StoredFile] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}  # query id → what the bot answered
        self._calls: list[Call] = []
        self._deliveries: dict[str, list[Delivery]] = {}  # token → webhook POSTs
        self._failures: dict[str, deque[Failure]] = {}
        self._ids = itertools.count(1)

    # --- helpers (lock held) ----------------------------------------------------------------

    def _next_message_id(self, token: str, chat_id: int) -> int:
        counter = self._message_ids.setdefault((token, chat_id), itertools.count(1))
        return next(counter)

    def _chat(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = _int(params, "chat_id")
        chat = self._chats.get(chat_id)
        if chat is None:  # the bot can only write where a user wrote to it first
            raise bad_request("chat not found")
        return chat_id, chat

    def _store_file(self, data: bytes, suffix: str) -> StoredFile:
        n = next(self._ids)
        stored = StoredFile(
            file_id=f"AwACAgIAAxkBAAI{n:08d}fake",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{suffix}/file_{n}",
            data=data,
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _text(text: Any, parse_mode: Any, *, caption: bool = False) -> tuple[str, list[Any]]:
        """Telegram's checks on a text or caption: parse mode, entities, length."""
        text = "" if text is None else str(text)
        mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else ""
        if mode not in ("", "html", "markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode")
        if not text.strip() and not caption:
            raise bad_request("message text is empty")
        plain, entities = text, list[Any]()
        if mode == "html":
            try:
                plain, entities = parse_entities(text)
            except EntityError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if not plain.strip() and not caption:
            raise bad_request("message text is empty")
        # Counted in code points: an all-emoji text of 4096 is accepted (offsets are UTF-16).
        if len(plain) > (CAPTION_LIMIT if caption else TEXT_LIMIT):
            raise bad_request("message caption is too long" if caption else "message is too long")
        return plain, entities

    @staticmethod
    def _markup(markup: Any) -> Any:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _message_object(self, bot: Bot, msg: BotMessage, extra: dict[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": bot.user(),
            "chat": self._chats[msg.chat_id],
            "date": now(),
            **extra,
        }
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            obj["reply_markup"] = msg.reply_markup
        msg.object = obj
        return obj

    def _new_message(
        self, bot: Bot, params: dict[str, Any], kind: str, text: str, plain: str, ents: list[Any]
    ) -> BotMessage:
        chat_id, _ = self._chat(params)
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        msg = BotMessage(
            token=bot.token,
            chat_id=chat_id,
            message_id=self._next_message_id(bot.token, chat_id),
            kind=kind,
            text=text,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=self._markup(params.get("reply_markup")),
            sent_at=time.monotonic(),
            plain=plain,
            entities=ents,
            reply_to=reply_to or params.get("reply_to_message_id"),
        )
        self._messages[(bot.token, chat_id, msg.message_id)] = msg
        return msg

    def _existing(self, bot: Bot, params: dict[str, Any], what: str) -> BotMessage:
        chat_id, _ = self._chat(params)
        msg = self._messages.get((bot.token, chat_id, _int(params, "message_id")))
        if msg is None or msg.deleted:
            raise bad_request(f"message to {what} not found")
        return msg

    # --- methods ----------------------------------------------------------------------------

    def get_me(self, bot: Bot, params: dict[str, Any]) -> Any:
        return {
            **bot.user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def set_webhook(self, bot: Bot, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://") and not url.startswith("http://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        bot.webhook_url = url
        bot.webhook_secret = params.get("secret_token") or None
        if params.get("allowed_updates") is not None:
            bot.allowed_updates = list(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            bot.updates.clear()
        return True

    def delete_webhook(self, bot: Bot, params: dict[str, Any]) -> Any:
        bot.webhook_url = ""
        bot.webhook_secret = None
        if params.get("drop_pending_updates"):
            bot.updates.clear()
        return True

    def get_webhook_info(self, bot: Bot, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if bot.webhook_url:
            info["max_connections"] = 40
            if bot.webhook_error:
                info["last_error_date"] = now()
                info["last_error_message"] = bot.webhook_error
            if bot.allowed_updates:
                info["allowed_updates"] = bot.allowed_updates
        return info

    def send_message(self, bot: Bot, params: dict[str, Any]) -> Any:
        text = params.get("text")
        plain, entities = self._text(text, params.get("parse_mode"))
        msg = self._new_message(bot, params, "text", str(text), plain, entities)
        extra: dict[str, Any] = {"text": plain}
        if entities:
            extra["entities"] = entities
        return self._message_object(bot, msg, extra)

    def edit_message_text(self, bot: Bot, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        msg = self._existing(bot, params, "edit")
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text = params.get("text")
        plain, entities = self._text(text, params.get("parse_mode"))
        markup = self._markup(params.get("reply_markup"))
        # Telegram compares the result, not the request: same text and entities, same keyboard.
        if plain == msg.plain and entities == msg.entities and markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        msg.text, msg.plain, msg.entities = str(text), plain, entities
        msg.parse_mode = params.get("parse_mode") or None
        msg.reply_markup = markup
        msg.edits.append(Edit(time.monotonic(), msg.text, msg.parse_mode))
        extra: dict[str, Any] = {"text": plain, "edit_date": now()}
        if entities:
            extra["entities"] = entities
        return self._message_object(bot, msg, extra)

    def edit_message_reply_markup(self, bot: Bot, params: dict[str, Any]) -> Any:
        msg = self._existing(bot, params, "edit")
        markup = self._markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        msg.reply_markup = markup
        msg.edits.append(Edit(time.monotonic(), msg.text, msg.parse_mode))
        obj = {k: v for k, v in msg.object.items() if k != "reply_markup"}
        obj["edit_date"] = now()
        if markup:
            obj["reply_markup"] = markup
        msg.object = obj
        return obj

    def delete_message(self, bot: Bot, params: dict[str, Any]) -> Any:
        msg = self._existing(bot, params, "delete")
        msg.deleted = True
        return True

    def send_chat_action(self, bot: Bot, params: dict[str, Any]) -> Any:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def send_media(
        self, bot: Bot, params: dict[str, Any], uploads: dict[str, Upload], kind: str
    ) -> Any:
        source = uploads.get(kind)
        if source is None:
            file_id = params.get(kind)
            known = self._files.get(file_id) if isinstance(file_id, str) else None
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            source = Upload(known.data, None, None)
        caption = params.get("caption")
        plain, entities = self._text(caption, params.get("parse_mode"), caption=True)
        stored = self._store_file(source.data, {"photo": "photos"}.get(kind, kind + "s"))
        msg = self._new_message(bot, params, kind, str(caption or ""), plain, entities)
        msg.upload = source
        ids = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        size = len(source.data)
        media: Any
        if kind == "voice":
            media = {**ids, "duration": int(params.get("duration") or 0), "mime_type": "audio/ogg"}
        elif kind == "audio":
            media = {**ids, "duration": int(params.get("duration") or 0)}
            media["mime_type"] = source.content_type or "audio/mpeg"
            media["file_name"] = source.filename or "audio"
        elif kind == "document":
            media = {**ids, "file_name": source.filename or "document"}
            media["mime_type"] = source.content_type or "application/octet-stream"
        else:
            media = [{**ids, "width": 800, "height": 600, "file_size": size}]
        if isinstance(media, dict):
            media["file_size"] = size
        extra: dict[str, Any] = {kind: media}
        if plain:
            extra["caption"] = plain
        if entities:
            extra["caption_entities"] = entities
        return self._message_object(bot, msg, extra)

    def answer_callback_query(self, bot: Bot, params: dict[str, Any]) -> Any:
        query = self._callbacks.get(str(params.get("callback_query_id")))
        if query is None or query["token"] != bot.token or query["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query["answered"] = True
        query["text"] = params.get("text")
        query["show_alert"] = bool(params.get("show_alert"))
        return True

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return f"{scope.get('type', 'default')}:{params.get('language_code') or ''}"

    def set_my_commands(self, bot: Bot, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands is empty")
        for c in commands:
            name = str(c.get("command", "")) if isinstance(c, dict) else ""
            ok = 1 <= len(name) <= 32 and all(
                ch.islower() or ch.isdigit() or ch == "_" for ch in name
            )
            if not ok or not 1 <= len(str(c.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_INVALID")
        bot.commands[self._scope_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def get_my_commands(self, bot: Bot, params: dict[str, Any]) -> Any:
        return bot.commands.get(self._scope_key(params), [])

    def delete_my_commands(self, bot: Bot, params: dict[str, Any]) -> Any:
        bot.commands.pop(self._scope_key(params), None)
        return True

    def get_file(self, bot: Bot, params: dict[str, Any]) -> Any:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
