"""The knowledge base as the api shows it: a file's index state, and search results."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class IndexState(BaseModel):
    """Where a file stands in the knowledge base (POST and GET /api/files/{id}/index)."""

    ok: bool = True
    file_id: str
    status: Literal["not_indexed", "indexing", "indexed", "failed"] = Field(
        description="indexing: a worker is on it (poll GET /api/files/{id}/index); failed: see "
        "`error` (chunks of an earlier indexing, if any, stay searchable)"
    )
    chunks: int = Field(description="chunks in the knowledge base now")
    pages: int | None = Field(description="pages indexed (for paged formats)")
    embedding_model: str | None
    requested_at: datetime | None
    indexed_at: datetime | None = Field(description="when the chunks now stored were made")
    error: str | None


class Passage(BaseModel):
    file_id: str
    file: str = Field(description="the file's name")
    page: int | None
    heading: str | None
    cite: str = Field(description='where it is from, e.g. "report.pdf, p. 3"')
    text: str
    score: float = Field(description="1.0 is the best possible match")


class KnowledgeResults(BaseModel):
    results: list[Passage]
    returned: int
