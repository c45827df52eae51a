"""The agent: tool-call messages in the history, pending approvals, plugin on/off state.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- A turn now stores several messages: the assistant's tool calls, their results, the reply.
    -- `seq` orders them within the turn (the user's message is 0).
    ALTER TABLE messages DROP CONSTRAINT messages_role_check;
    ALTER TABLE messages ADD CONSTRAINT messages_role_check
        CHECK (role IN ('user', 'assistant', 'tool'));
    ALTER TABLE messages
        ADD COLUMN seq smallint NOT NULL DEFAULT 0,
        ADD COLUMN tool_calls jsonb,
        ADD COLUMN tool_call_id text;
    DROP INDEX messages_one_per_turn_and_role;
    CREATE UNIQUE INDEX messages_one_per_turn_and_seq
        ON messages (turn_id, role, seq) WHERE turn_id IS NOT NULL;

    CREATE TABLE approvals (
        id text PRIMARY KEY,
        turn_id text NOT NULL,
        channel text NOT NULL,
        tool text NOT NULL,
        args jsonb NOT NULL,
        call_id text NOT NULL,
        -- what the turn had done when it paused, to continue from there
        state jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'approved', 'denied')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        decided_via text
    );
    CREATE INDEX approvals_pending_by_channel
        ON approvals (channel, created_at DESC) WHERE status = 'pending';

    CREATE TABLE plugin_state (
        name text PRIMARY KEY,
        enabled boolean NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE plugin_state;
    DROP TABLE approvals;
    DELETE FROM messages WHERE role = 'tool' OR seq > 0;
    DROP INDEX messages_one_per_turn_and_seq;
    CREATE UNIQUE INDEX messages_one_per_turn_and_role
        ON messages (turn_id, role) WHERE turn_id IS NOT NULL;
    ALTER TABLE messages DROP COLUMN seq, DROP COLUMN tool_calls, DROP COLUMN tool_call_id;
    ALTER TABLE messages DROP CONSTRAINT messages_role_check;
    ALTER TABLE messages ADD CONSTRAINT messages_role_check CHECK (role IN ('user', 'assistant'));
    """)
