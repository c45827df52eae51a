"""Built-in plugins' data: the owner's todo list and reminders.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE todos (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        text text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
        done boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        done_at timestamptz
    );
    CREATE INDEX todos_open ON todos (id) WHERE NOT done;

    CREATE TABLE reminders (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        -- the channel it was set on: its delivery is a turn there
        channel text NOT NULL,
        text text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
        -- a 5-field cron expression (in the owner's time zone) for repeating ones, else NULL
        cron text,
        next_run_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'done', 'cancelled')),
        runs integer NOT NULL DEFAULT 0,
        last_run_at timestamptz,
        last_turn_id text,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX reminders_due ON reminders (next_run_at) WHERE status = 'active';
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE reminders;
    DROP TABLE todos;
    """)
