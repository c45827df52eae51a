"""Memory search: the channel a memory came from, the model of its vector, an English+simple
tsvector, a normalised text key for exact duplicates, and indexes for newest-first listing.

The full-text column indexes each text twice. 'english' stems ("meetings" finds "meeting") and
drops stop words, so a question's filler words do not match every row; 'simple' keeps every
token verbatim (names, numbers, codes like KX-4711), so an exact form also matches as typed and
ranks above a stem-only match. Queries are built from the same two configurations
(shared/db/memories.py).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE memories ADD COLUMN channel text;
    ALTER TABLE memories ADD COLUMN embedding_model text;
    -- The vector stays in the row: a 1.5 kB vector would otherwise go to TOAST (rows are over
    -- 2 kB), and every distance computed from the table would cost a TOAST lookup.
    ALTER TABLE memories ALTER COLUMN embedding SET STORAGE PLAIN;

    ALTER TABLE memories DROP COLUMN search;
    ALTER TABLE memories ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, content) || to_tsvector('simple'::regconfig, content)
    ) STORED;
    CREATE INDEX memories_search_gin ON memories USING gin (search);

    -- Lower case, runs of anything but letters and digits as one space: "Likes tea!" and
    -- "likes  tea" are the same memory.
    ALTER TABLE memories ADD COLUMN content_key text GENERATED ALWAYS AS (
        btrim(regexp_replace(lower(content), '[^[:alnum:]]+', ' ', 'g'))
    ) STORED;
    DELETE FROM memories a USING memories b WHERE a.content_key = b.content_key AND a.id < b.id;
    -- md5: a btree entry must stay small whatever the text's length.
    CREATE UNIQUE INDEX memories_content_key ON memories (md5(content_key));

    DROP INDEX memories_newest;
    CREATE INDEX memories_newest ON memories (updated_at DESC, id DESC);
    CREATE INDEX memories_by_category ON memories (category, updated_at DESC, id DESC);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX memories_by_category;
    DROP INDEX memories_newest;
    CREATE INDEX memories_newest ON memories (created_at DESC);
    ALTER TABLE memories DROP COLUMN content_key;
    ALTER TABLE memories DROP COLUMN search;
    ALTER TABLE memories ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;
    CREATE INDEX memories_search_gin ON memories USING gin (search);
    ALTER TABLE memories ALTER COLUMN embedding SET STORAGE EXTERNAL;
    ALTER TABLE memories DROP COLUMN embedding_model;
    ALTER TABLE memories DROP COLUMN channel;
    """)
