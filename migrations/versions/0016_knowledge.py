"""Knowledge base: indexed files become chunks searched like memories (vector + full text).

`knowledge_chunks` holds each chunk of an indexed file with the page and heading it came from
(for citing), its vector (the memory embedder's, 384 dimensions) and a generated tsvector in the
same two configurations as memories (migration 0008), so the hybrid search is the same query
(shared/db/hybrid.py). HNSW parameters and the kept-whole rows follow migration 0011.

`knowledge_files` says where each file stands in the index: one row per file once indexing was
asked for, 'indexing' until a worker has stored its chunks, then 'indexed' (or 'failed', with
the reason). Both tables follow their file: deleting a file deletes its chunks and its state.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE knowledge_files (
        file_id text PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('indexing', 'indexed', 'failed')),
        error text,
        chunks integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
        pages integer CHECK (pages >= 0),
        embedding_model text,
        requested_at timestamptz NOT NULL DEFAULT now(),
        indexed_at timestamptz
    );

    CREATE TABLE knowledge_chunks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        file_id text NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        ordinal integer NOT NULL CHECK (ordinal >= 0),
        page integer CHECK (page >= 1),
        heading text,
        content text NOT NULL,
        embedding vector(384) NOT NULL,
        embedding_model text NOT NULL,
        search tsvector GENERATED ALWAYS AS (
            to_tsvector('english'::regconfig, content) || to_tsvector('simple'::regconfig, content)
        ) STORED,
        UNIQUE (file_id, ordinal)
    );
    ALTER TABLE knowledge_chunks ALTER COLUMN embedding SET STORAGE PLAIN;
    ALTER TABLE knowledge_chunks SET (toast_tuple_target = 8160);
    CREATE INDEX knowledge_chunks_embedding_hnsw ON knowledge_chunks
        USING hnsw (embedding vector_cosine_ops) WITH (m = 32, ef_construction = 128);
    CREATE INDEX knowledge_chunks_search_gin ON knowledge_chunks USING gin (search);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE knowledge_chunks; DROP TABLE knowledge_files;")
