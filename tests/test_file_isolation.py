"""The extraction child's limits, without the stack: a file that would take too long is killed
at the time limit, one that needs too much memory is stopped by the address-space limit, and
the child sees none of the worker's environment."""

from __future__ import annotations

import time

import pytest

from services.worker.documents import isolation
from services.worker.documents.collect import Unreadable
from services.worker.documents.isolation import Limits
from shared import file_types
from tests import file_samples as samples

GENEROUS = Limits(seconds=60, memory_bytes=1024 * 2**20, max_chars=100_000)


async def test_a_slow_file_is_killed_at_the_time_limit() -> None:
    """A limit far below what the child needs (starting, then parsing 60k nested elements takes
    hundreds of ms on any machine): the outcome does not depend on the machine's speed."""
    nested = b"<div>" * 60_000 + b"deep" + b"</div>" * 60_000
    started = time.monotonic()
    with pytest.raises(Unreadable, match=r"longer than 0\.01 s"):
        await isolation.extract(file_types.HTML, nested, Limits(0.01, 1024 * 2**20, 100_000))
    assert time.monotonic() - started < 15
    # The same file with room to finish is read: the limit, not the file, stopped it.
    result = await isolation.extract(file_types.HTML, nested, GENEROUS)
    assert "deep" in str(result["segments"])


async def test_memory_is_capped() -> None:
    """A file that needs more memory than allowed (here: 80 MB of text under a 160 MB limit,
    which decoding and cleaning copy several times) stops the child, not the worker."""
    content = b"a" * (80 * 2**20)
    with pytest.raises(Unreadable, match="more memory than AION allows"):
        await isolation.extract(file_types.TEXT, content, Limits(60, 160 * 2**20, 10**9))
    # With the default limits a file is read as usual.
    result = await isolation.extract(file_types.PDF, samples.pdf(["some text"]), GENEROUS)
    assert result["segments"] == [{"text": "some text", "page": 1, "heading": None}]


async def test_text_is_capped_and_says_so() -> None:
    content = ("word " * 50_000).encode()
    result = await isolation.extract(file_types.TEXT, content, Limits(30, 1024 * 2**20, 1000))
    assert result["truncated"] is True
    assert sum(len(s["text"]) for s in result["segments"]) <= 1000


def test_the_child_gets_no_secret_from_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader runs with an environment of its own, whatever the worker holds."""
    monkeypatch.setenv("AION_SECRET_KEY", "must-not-reach-the-child")
    monkeypatch.setenv("DATABASE_URL", "postgresql://secret@db/aion")
    assert set(isolation.child_environment()) == {"PATH", "LANG", "PYTHONHASHSEED"}
