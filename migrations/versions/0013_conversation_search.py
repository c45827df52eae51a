"""Full-text search over message text, for the console's history (GET /api/conversations?search=).

The `simple` configuration (no stemming, no stop words): the owner writes in any language, and
a search for a name or a word in another language must still find it. Only what a person sees
is indexed (their messages and the replies), as only that is searched.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE INDEX messages_text_search ON messages
        USING gin (to_tsvector('simple', content))
        WHERE role IN ('user', 'assistant');
    """)


def downgrade() -> None:
    op.execute("DROP INDEX messages_text_search;")
