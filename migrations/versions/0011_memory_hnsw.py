"""Memory search at a lifetime's scale: a denser HNSW graph, rows kept whole.

Measured with bench/memory_search.py at 1M memories: pgvector's default graph (m=16,
ef_construction=64) stops near recall@10 0.94 however wide the search beam; m=32 with
ef_construction=128 reached 0.98 at hnsw.ef_search 100, which the searches use. The denser
graph is bigger and slower to build (on 2 cores: 8 s at 10k memories, 16 min at 1M); this
migration rebuilds it once.

toast_tuple_target: a row (1.5 kB vector, text, tsvector, text key) is often just over the
2 kB at which PostgreSQL starts compressing its text columns; every full-text recheck would
then decompress the tsvector again. Rows up to a page stay whole.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE memories SET (toast_tuple_target = 8160);
    DROP INDEX memories_embedding_hnsw;
    CREATE INDEX memories_embedding_hnsw ON memories
        USING hnsw (embedding vector_cosine_ops) WITH (m = 32, ef_construction = 128);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX memories_embedding_hnsw;
    CREATE INDEX memories_embedding_hnsw ON memories USING hnsw (embedding vector_cosine_ops);
    ALTER TABLE memories RESET (toast_tuple_target);
    """)
