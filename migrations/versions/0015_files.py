"""Files the owner gives AION to read: the original bytes and the text a worker extracted.

The bytes live in PostgreSQL (at most AION_FILE_MAX_BYTES each, 20 MB by default) so api and
worker need no shared volume and a backup of the database is a backup of the documents.
`segments` keeps where each piece of text came from, in reading order, so a quote can cite
its page or heading: [{"text": "...", "page": 3 | null, "heading": "..." | null}, ...];
`text` is the segments' texts joined with a blank line.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(r"""
    CREATE TABLE files (
        id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{8,64}$'),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        mime text NOT NULL,
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        content bytea NOT NULL,
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'ready', 'failed')),
        error text,  -- why extraction failed, in words the owner can act on
        text text,
        segments jsonb,
        chars integer CHECK (chars >= 0),
        pages integer CHECK (pages >= 0),
        channel text,
        created_at timestamptz NOT NULL DEFAULT now(),
        extracted_at timestamptz
    );
    CREATE INDEX files_newest_first ON files (created_at DESC, id DESC);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE files;")
