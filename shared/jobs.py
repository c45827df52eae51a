"""arq jobs (the chat turn, the update check): names, payloads and wire format, defined once."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

RUN_TURN = "run_turn"
QUEUE_NAME = "aion:queue"
# Published after every enqueue so idle workers pick the job up at once instead of polling.
JOBS_WAKE_CHANNEL = "aion:jobs:wake"

CHECK_UPDATES = "check_updates"
# One id for every requested check: a trigger while one is queued or running adds nothing.
UPDATE_CHECK_JOB_ID = "aion:update-check"


class ResumeApproval(BaseModel):
    """Continue the turn that paused on this approval, which the owner has just decided."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_id: str
    approved: bool


class ClientMessage(BaseModel):
    """One earlier message of a conversation a client sent whole (the OpenAI-compatible API),
    in the providers' chat format: text, or text and image_url parts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str | list[dict[str, Any]]


class TurnJob(BaseModel):
    """Everything a worker needs to run one chat turn; the api validated it already.

    A turn either answers `message`, or (with `resume`, and no message) continues a turn that
    paused for the owner's approval.

    `conversation` (a stateless client, the OpenAI-compatible API): the messages before
    `message`, used instead of the channel's stored history; the exchange is still recorded on
    the channel. `approvals=False`: nobody can answer an approval on this turn, so tools that
    would need one are not offered, and a call that would need one is refused, never paused on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    turn_id: str
    channel: str
    message: str
    resume: ResumeApproval | None = None
    images: list[str] = Field(default_factory=list)
    # Ids of the owner's files whose text goes to the model with `message` (the api checked
    # they exist and were read).
    files: list[str] = Field(default_factory=list)
    voice: bool = False
    model: str | None = None
    conversation: list[ClientMessage] | None = None
    approvals: bool = True
    enqueued_at_ms: int


class UpdateCheckJob(BaseModel):
    """An update check the owner asked for (the daily one is arq's cron and has no payload)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requested_at_ms: int


def serialize_job(data: dict[str, Any]) -> bytes:
    """arq job serializer: JSON, so nothing in Redis can make a worker unpickle code."""
    return orjson.dumps(data, default=_exception_text)


def _exception_text(value: object) -> str:
    """A job that raised has its exception as its result: stored as text, so arq can still
    record how the job ended (orjson calls this for anything it cannot encode)."""
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def deserialize_job(data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(data)
    return result


EXTRACT_FILE = "extract_file"
# Where the worker that read a file says so (a list the api waits on with BLPOP; it expires).
FILE_EXTRACTED_PREFIX = "aion:files:extracted:"
FILE_EXTRACTED_TTL_SECONDS = 300


def file_extracted_key(file_id: str) -> str:
    return f"{FILE_EXTRACTED_PREFIX}{file_id}"


def extract_file_job_id(file_id: str) -> str:
    """One job per file: a repeated enqueue adds nothing."""
    return f"aion:extract:{file_id}"


class FileExtractionJob(BaseModel):
    """Read the text of a stored file (POST /api/files); the worker writes it to the row."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_id: str


INDEX_FILE = "index_file"


class IndexFileJob(BaseModel):
    """Index (again) one file into the knowledge base; the api checked it is ready."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_id: str
    requested_at_ms: int


# The start of a failed indexing's reason when the failure is the server's (the model could not
# run), not the file's: the api answers 503 then, 422 otherwise.
INDEX_SERVER_FAILURE = "indexing failed on the server"


def index_job_id(file_id: str, requested_at_ms: int, nonce: str) -> str:
    """Each request is its own job (arq keeps a finished job's id for a while, and a re-index
    asked for in that time must still run); the api waits on this id."""
    return f"index-{file_id}-{requested_at_ms}-{nonce}"
