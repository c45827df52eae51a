"""Prompts (rules, character, self) with their recent revisions.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE prompt_revisions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL CHECK (name IN ('rules', 'character', 'self')),
        content text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX prompt_revisions_newest ON prompt_revisions (name, id DESC);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE prompt_revisions;")
