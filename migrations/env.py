"""Alembic environment: migrations are plain SQL; the connection comes from DATABASE_URL."""

from __future__ import annotations

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool

from shared.service_settings import DatabaseSettings

database_url = DatabaseSettings().database_url

# A creator keeps libpq's own URI parsing (unix-socket URIs included).
engine = create_engine(
    "postgresql+psycopg://",
    creator=lambda: psycopg.connect(database_url),
    poolclass=pool.NullPool,
)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        # One migrator at a time, even when several replicas start together.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(74201)")
        context.run_migrations()
