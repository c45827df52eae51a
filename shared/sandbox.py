"""The sandbox contract: how the worker asks the `sandbox` service to run a command or a program.

`POST /v1/run` with `Authorization: Bearer <AION_SANDBOX_TOKEN>` and a `RunRequest`; the answer
is a `CommandResult` once the command has ended (its output capped), 401 for a wrong token, 429
while the sandbox already runs as many commands as it allows. Closing the connection kills the
command. The sandbox holds only the token's SHA-256 (`token_digest`), so nothing it keeps lets
anyone call it, or anything else.

`PROGRAM_PATH` is a WebSocket for a long-lived program (a stdio MCP server), with the same
credential: the handshake is refused with 401 for a wrong token and 429 while the sandbox runs
as many programs as it allows. The worker's first message is a `ProgramStart` (JSON); then each
message is one line of the program's stdin one way and one line of its stdout the other, at most
`MAX_LINE_BYTES`. Closing the socket kills the program and its process group; when the program
ends, the sandbox closes the socket with a reason (`PROGRAM_EXITED`, "exit code N"), or with
`LINE_TOO_LONG`, `BAD_MESSAGE` (a bad start message, or one not a line) or
`START_FAILED`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

RUN_PATH = "/v1/run"
PROGRAM_PATH = "/v1/program"
MAX_COMMAND_CHARS = 10_000
MAX_LINE_BYTES = 4 * 1024 * 1024  # one JSON-RPC message, an image or a file in it included
MAX_ENV_VALUE_CHARS = 16_384
DIGEST = re.compile(r"^[0-9a-f]{64}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# What a program's own env may not set: it would change what runs, not configure the program.
RESERVED_ENV = frozenset({"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONSTARTUP"})

# WebSocket close codes of PROGRAM_PATH (RFC 6455: 1000 normal, 1008 policy, 1009 too big).
PROGRAM_EXITED = 1000
BAD_MESSAGE = 1008
LINE_TOO_LONG = 1009
START_FAILED = 1011


def token_digest(token: str) -> str:
    """What the sandbox keeps of its credential: the token's SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def env_name_problem(name: str) -> str | None:
    """Why `name` may not be set in a program's own environment, or None."""
    if ENV_NAME.match(name) is None:
        return f"{name[:80]!r} is not an environment variable name"
    if name in RESERVED_ENV or name.startswith("AION_"):
        return f"{name!r} may not be set for an MCP server"
    return None


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=MAX_COMMAND_CHARS, description="for /bin/sh -c")
    timeout_seconds: float = Field(gt=0, le=3600)


class ProgramStart(BaseModel):
    """The first message on PROGRAM_PATH: what to run (no shell), and its own variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str = Field(min_length=1, max_length=1000)
    args: list[Annotated[str, Field(max_length=4000)]] = Field(default_factory=list, max_length=64)
    env: dict[str, Annotated[str, Field(max_length=MAX_ENV_VALUE_CHARS)]] = Field(
        default_factory=dict, max_length=64
    )

    @field_validator("command", "args")
    @classmethod
    def _no_nul(cls, value: str | list[str]) -> str | list[str]:
        if any("\0" in part for part in ([value] if isinstance(value, str) else value)):
            raise ValueError("holds a NUL character")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, setting in value.items():
            problem = env_name_problem(name)
            if problem is not None:
                raise ValueError(problem)
            if "\0" in setting:
                raise ValueError(f"the value of {name!r} holds a NUL character")
        return value


class CommandResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exit_code: int | None  # None when it was killed for running too long
    output: str  # stdout and stderr, interleaved as written, cut in the middle when long
    output_bytes: int  # how much it wrote in all
    truncated: bool
    timed_out: bool
    duration_ms: int
