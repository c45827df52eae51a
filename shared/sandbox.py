"""The sandbox contract: how the worker asks the `sandbox` service to run a command.

`POST /v1/run` with `Authorization: Bearer <AION_SANDBOX_TOKEN>` and a `RunRequest`; the answer
is a `CommandResult` once the command has ended (its output capped), 401 for a wrong token, 429
while the sandbox already runs as many commands as it allows. Closing the connection kills the
command. The sandbox holds only the token's SHA-256 (`token_digest`), so nothing it keeps lets
anyone call it, or anything else.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict, Field

RUN_PATH = "/v1/run"
MAX_COMMAND_CHARS = 10_000
DIGEST = re.compile(r"^[0-9a-f]{64}$")


def token_digest(token: str) -> str:
    """What the sandbox keeps of its credential: the token's SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=MAX_COMMAND_CHARS, description="for /bin/sh -c")
    timeout_seconds: float = Field(gt=0, le=3600)


class CommandResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exit_code: int | None  # None when it was killed for running too long
    output: str  # stdout and stderr, interleaved as written, cut in the middle when long
    output_bytes: int  # how much it wrote in all
    truncated: bool
    timed_out: bool
    duration_ms: int
