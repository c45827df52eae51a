"""The owner's MCP servers: their tools are offered to the model like any plugin's.

Header and env values (tokens, keys) are sealed with AION_SECRET_KEY in `sealed_secrets`, as
one Fernet ciphertext of {"headers": {...}, "env": {...}}; never stored in clear.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE mcp_servers (
        name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_-]{0,31}$'),
        transport text NOT NULL CHECK (transport IN ('http', 'stdio')),
        -- everything but the secrets, as the api accepted it (url or command and args, risk...)
        config jsonb NOT NULL,
        sealed_secrets bytea,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE mcp_servers")
