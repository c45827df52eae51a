"""Batched memory extraction: how far each conversation was read for memories, and when next.

`extracted_upto`: the id of the last message the extractor has read (0: none). `extract_after`:
set while the conversation holds messages not yet read; extraction is due once the conversation
has been idle for the owner's `memory_extract_idle_seconds` since then ('-infinity': at once).
`extract_lease_until`: a worker is extracting it until then (a worker that dies leaves the lease
to lapse, and another one takes the conversation). Existing conversations were extracted turn by
turn already: they start fully read.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE conversations
        ADD COLUMN extracted_upto bigint NOT NULL DEFAULT 0,
        ADD COLUMN extract_after timestamptz,
        ADD COLUMN extract_lease_until timestamptz;
    UPDATE conversations c SET extracted_upto = COALESCE(
        (SELECT max(m.id) FROM messages m WHERE m.conversation_id = c.id), 0);
    CREATE INDEX conversations_extraction_due ON conversations (extract_after)
        WHERE extract_after IS NOT NULL;
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX conversations_extraction_due;
    ALTER TABLE conversations
        DROP COLUMN extract_lease_until,
        DROP COLUMN extract_after,
        DROP COLUMN extracted_upto;
    """)
