"""Riding out a PostgreSQL restart: its steps retried like Redis's (see shared/retry.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import psycopg
import psycopg_pool

from shared.retry import BoundedRetry

# A lost or refused connection (AdminShutdown, sent to every session of a server that stops, is
# one), or no connection to be had from the pool in time.
RETRYABLE = (psycopg.OperationalError, psycopg_pool.PoolTimeout)


class DatabaseUnavailable(psycopg.OperationalError):
    """PostgreSQL stayed out of reach for a whole retry budget (the api renders it as `503`)."""


@dataclass(frozen=True, slots=True)
class DatabaseRetry(BoundedRetry):
    store: ClassVar[str] = "PostgreSQL"
    retryable: ClassVar[tuple[type[Exception], ...]] = RETRYABLE
    gave_up: ClassVar[type[Exception]] = DatabaseUnavailable
