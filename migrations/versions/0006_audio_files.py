"""Audio files the tts service made: the api serves only these, the worker expires them.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(r"""
    CREATE TABLE audio_files (
        id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{8,64}$'),
        -- the only names GET /api/audio/{filename} can ever open
        file_name text NOT NULL UNIQUE
            CHECK (file_name ~ '^[A-Za-z0-9_-]{8,64}\.(mp3|wav|ogg|opus)$'),
        format text NOT NULL CHECK (format IN ('wav', 'mp3', 'ogg')),
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        duration_seconds double precision NOT NULL CHECK (duration_seconds >= 0),
        engine text NOT NULL,
        voice text NOT NULL,
        channel text,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audio_files_by_age ON audio_files (created_at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE audio_files;")
