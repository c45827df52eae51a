"""Foundation: pgvector, conversations, messages, settings, API credentials.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE EXTENSION IF NOT EXISTS vector;

    CREATE TABLE conversations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz
    );
    CREATE UNIQUE INDEX conversations_one_open_per_channel
        ON conversations (channel) WHERE closed_at IS NULL;

    CREATE TABLE messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        turn_id text,
        role text NOT NULL CHECK (role IN ('user', 'assistant')),
        content text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
    CREATE INDEX messages_by_time ON messages (created_at);
    -- a retried job never stores the same turn twice
    CREATE UNIQUE INDEX messages_one_per_turn_and_role
        ON messages (turn_id, role) WHERE turn_id IS NOT NULL;

    CREATE TABLE settings (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_credentials (
        id smallint PRIMARY KEY CHECK (id = 1),
        token_sha256 bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE api_credentials;
    DROP TABLE settings;
    DROP TABLE messages;
    DROP TABLE conversations;
    """)
