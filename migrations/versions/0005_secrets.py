"""Secrets: provider keys and OAuth tokens, encrypted with Fernet (the key is never stored here).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE secrets (
        name text PRIMARY KEY CHECK (name ~ '^[A-Z][A-Z0-9_]{2,63}$'),
        ciphertext bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE secrets;")
