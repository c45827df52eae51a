"""The yes/no words that answer an approval, and the channels where a chat word never decides.

The worker takes a plain "yes" or "no" as the decision on the channel's pending approval when it
is the very next message there (services/worker/approvals.py). On a channel listed in
WORDS_NEVER_DECIDE that never happens: whoever asks there decides for the exact approval id it
asked about, through the api (Alexa keeps the id in its session: services/api/alexa/voice.py),
so a stray "yes" said later, in another session, approves nothing.
"""

from __future__ import annotations

ALEXA_CHANNEL = "alexa"

YES_WORDS = frozenset({"yes", "y", "ok", "ja"})
NO_WORDS = frozenset({"no", "n", "nein"})

WORDS_NEVER_DECIDE = frozenset({ALEXA_CHANNEL})


def decision_word(message: str) -> bool | None:
    """True/False for a message that is only a yes/no word (punctuation aside), else None."""
    word = message.strip().strip(".!?,;:").strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def words_decide_on(channel: str) -> bool:
    """Whether a yes/no chat message on `channel` may decide the channel's pending approval."""
    return channel not in WORDS_NEVER_DECIDE
