"""Bot API wire objects (User, Chat, Message, Update ...) and request-parameter decoding."""

from __future__ import annotations

import json
import re
import time
from typing import Any

# Parameters Telegram reads as strings: never JSON-decode these from a form field
# (PTB sends every non-string value JSON-encoded and strings as they are).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "file_id",
        "url",
        "secret_token",
        "action",
        "inline_message_id",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "ip_address",
        "title",
        "performer",
        "file_name",
    }
)

_COMMAND = re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{5,32})?")


def decode_param(name: str, value: str) -> Any:
    """A form value as the typed value Telegram would see (JSON for non-strings)."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # "@channelname" chat ids, plain words


def utf16_len(text: str) -> int:
    """Telegram's offsets and lengths count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """`bot_command` entities for every /command in `text`, as Telegram marks them."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND.finditer(text)
    ]


def user_object(
    user_id: int, *, username: str | None = None, first_name: str = "Owner", is_bot: bool = False
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if username:
        user["username"] = username
    if not is_bot:
        user["language_code"] = "en"
    return user


def chat_object(chat_id: int, user: dict[str, Any]) -> dict[str, Any]:
    """Private chat for positive ids (the user's own), a supergroup for negative ones."""
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
    chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
    if "username" in user:
        chat["username"] = user["username"]
    return chat


def now() -> int:
    return int(time.time())
