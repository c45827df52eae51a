"""Telegram: the owner's chat as a setting, and the group chats the owner lets the bot into.

Answers that have no chat of their own (a late Alexa answer, a reminder for the owner) go to
`owner_chat`; unset, to the private chat of the first allowed user — never to whichever chat
spoke last. Group chats (negative ids) are ignored unless listed here.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- One row at most: the owner's chat for answers with no chat of their own.
    CREATE TABLE telegram_options (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        owner_chat bigint
    );
    -- Group and supergroup chats (Telegram gives them negative ids) the bot may answer in.
    CREATE TABLE telegram_group_chats (
        chat_id bigint PRIMARY KEY CHECK (chat_id < 0),
        added_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE telegram_group_chats; DROP TABLE telegram_options")
