"""Long-term memory entries as GET /api/memory lists them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, computed_field


class MemoryEntry(BaseModel):
    id: int
    timestamp: datetime  # when the memory was last saved or confirmed
    category: str
    content: str
    channel: str | None
    score: float | None = None  # searches only: 1.0 is the best possible match

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        """`content`, under the name the old clients read (API.md: kept for old clients)."""
        return self.content


class MemoryPage(BaseModel):
    entries: list[MemoryEntry]
    total: int
    returned: int
    has_more: bool
