"""A local fake of Telegram's Bot API, good enough for python-telegram-bot to run against.

`with FakeTelegram() as fake:` serves `/bot<token>/<method>` and `/file/bot<token>/<path>` on
127.0.0.1 from a background thread; point PTB at it with
`Application.builder().token(t).base_url(f"{fake.url}/bot").base_file_url(f"{fake.url}/file/bot")`.
Tests play the users (`send_text`, `send_voice`, `press_button`, ...), read what the bot did
(`calls`, `chat_messages`) and inject failures (`fail_next`). Requests are checked the way
Telegram checks them: tokens, HTML entities, length limits, "message is not modified", 409 for
overlapping getUpdates.
"""

from tests.faketelegram.html import EntityError, parse_entities, parse_html, well_formed
from tests.faketelegram.polling import CONFLICT
from tests.faketelegram.server import FakeTelegram
from tests.faketelegram.state import BotMessage, Call, Edit, Upload

__all__ = [
    "CONFLICT",
    "BotMessage",
    "Call",
    "Edit",
    "EntityError",
    "FakeTelegram",
    "Upload",
    "parse_entities",
    "parse_html",
    "well_formed",
]
