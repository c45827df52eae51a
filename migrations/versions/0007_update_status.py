"""The result of the latest update check (one row).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE update_status (
        id smallint PRIMARY KEY CHECK (id = 1),
        repo text,                       -- owner/name that was checked; NULL when none is set
        checked_at timestamptz NOT NULL, -- the last attempt, whatever its outcome
        latest_tag text,                 -- the latest release's tag as GitHub gives it
        release_url text,
        release_notes text,
        published_at timestamptz,
        error text,                      -- why the last attempt failed; NULL when it did not
        not_before timestamptz           -- GitHub asked us to wait (rate limit) until then
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE update_status;")
