"""The users' side: what a test makes happen in Telegram (messages, files, button presses)."""

from __future__ import annotations

import copy
import itertools
from typing import Any, Literal

from tests.faketelegram.polling import Updates
from tests.faketelegram.wire import chat_object, command_entities, now, user_object


class Users(Updates):
    """Builds real Update JSON for what users do and queues it for the bot."""

    def __init__(self, conflict: Literal["terminate_older", "reject_newer"]) -> None:
        super().__init__(conflict)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)

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
