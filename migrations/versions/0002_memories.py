"""Long-term memory: vector(384) with HNSW (cosine) and a generated tsvector with GIN.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE memories (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        category text NOT NULL DEFAULT 'general',
        content text NOT NULL,
        source text NOT NULL,
        turn_id text,
        embedding vector(384),
        search tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
    );
    CREATE INDEX memories_embedding_hnsw ON memories USING hnsw (embedding vector_cosine_ops);
    CREATE INDEX memories_search_gin ON memories USING gin (search);
    CREATE INDEX memories_newest ON memories (created_at DESC);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE memories;")
