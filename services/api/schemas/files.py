"""The owner's files as the /api/files routes show them (never their bytes or text)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

FILE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class FileUploaded(BaseModel):
    """What POST /api/files answers once a worker has read the file (201), or while it is
    still reading when the wait ran out (202, status `pending`)."""

    id: str
    name: str
    mime: str = Field(description="decided from the content and the name, not the client's claim")
    size: int = Field(description="bytes")
    status: Literal["pending", "ready"]
    chars: int | None = Field(default=None, description="characters of extracted text")
    pages: int | None = Field(default=None, description="PDF pages or slides; absent otherwise")


class FileRecord(BaseModel):
    id: str
    name: str
    mime: str
    size: int
    sha256: str
    status: Literal["pending", "ready", "failed"]
    error: str | None = Field(description="why the file could not be read (status failed)")
    chars: int | None
    pages: int | None
    channel: str | None
    created_at: datetime
    extracted_at: datetime | None


class FilePage(BaseModel):
    files: list[FileRecord]
    total: int
