"""The arq wire format: a job's result is always storable."""

from __future__ import annotations

import orjson
import pytest
import redis.exceptions

from shared.jobs import deserialize_job, serialize_job


def test_a_job_that_raised_has_its_exception_stored_as_text() -> None:
    """arq stores the exception a job raised as its result; one that cannot be encoded made
    arq log `TypeError: Type is not JSON serializable` instead of recording how it ended."""
    error = redis.exceptions.ConnectionError("Connection closed by server.")
    stored = deserialize_job(serialize_job({"s": False, "r": error, "id": "job"}))
    assert stored == {
        "s": False,
        "r": "ConnectionError: Connection closed by server.",
        "id": "job",
    }


def test_anything_else_unencodable_still_fails_loudly() -> None:
    with pytest.raises(orjson.JSONEncodeError):
        serialize_job({"r": object()})
