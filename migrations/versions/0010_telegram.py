"""Telegram: who may talk to the bot (Telegram ids are 64-bit: bigint).

The bot token itself is a secret: it lives in the `secrets` table (Fernet, shared/vault.py)
under TELEGRAM_BOT_TOKEN, never here.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Numeric Telegram user ids allowed to talk to AION; none means nobody.
    CREATE TABLE telegram_allowed_users (
        user_id bigint PRIMARY KEY,
        added_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE telegram_allowed_users")
