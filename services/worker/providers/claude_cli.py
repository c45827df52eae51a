"""The Claude CLI (`claude -p --output-format stream-json`): the owner's Claude subscription.

One subprocess per call. The conversation goes in on stdin as a transcript (the CLI keeps no
history of ours), the system prompt as `--system-prompt`. The CLI's own tools are switched off
(`--tools ""` and no MCP servers but the ones we name: none): it runs on the worker's machine,
and AION's tools go through AION's approvals. A line-by-line timeout stops a CLI that hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from services.worker.providers.anthropic_messages import text_of
from services.worker.providers.base import (
    ProviderChunk,
    ProviderError,
    ProviderRequest,
    ReasoningDelta,
    TextDelta,
    Usage,
)

log = logging.getLogger("aion.worker.claude_cli")

_MAX_ARG = 100_000  # a longer system prompt goes on stdin (one argument may hold ~128 KiB)
_LINE_LIMIT = 16 * 1024 * 1024


def transcript(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """The system prompt, and everything else as one prompt text."""
    system = "\n\n".join(text_of(m.get("content")) for m in messages if m.get("role") == "system")
    rest = [m for m in messages if m.get("role") != "system"]
    if len(rest) == 1:
        return system, text_of(rest[0].get("content"))
    lines = ["The conversation so far (answer the last user message):"]
    for m in rest:
        role = m.get("role")
        text = text_of(m.get("content"))
        if role == "tool":
            lines.append(f"Tool result ({m.get('tool_call_id', '')}): {text}")
            continue
        for call in m.get("tool_calls") or ():
            function = call.get("function") or {}
            lines.append(
                f"Assistant called tool {function.get('name')}: {function.get('arguments')}"
            )
        if text:
            lines.append(f"{'User' if role == 'user' else 'Assistant'}: {text}")
    return system, "\n\n".join(lines)


# What the CLI needs from the worker's environment to run, find its login and reach Anthropic
# (through a proxy when one is set); nothing else of the worker (keys, URLs, tokens) goes in.
_CLI_ENV_NAMES = (
    "PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "XDG_CONFIG_HOME",
    "CLAUDE_CONFIG_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy",
    "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR",
)  # fmt: skip


def cli_env(worker_env: Mapping[str, str], token: str | None) -> dict[str, str]:
    """The CLI's environment: the names above, and the owner's CLI login token when saved."""
    env = {name: worker_env[name] for name in _CLI_ENV_NAMES if name in worker_env}
    if token:  # `claude setup-token`'s token, saved through /api/keys or set for the worker
        env["CLAUDE_CODE_OAUTH_TOKEN"] = token
    return env


class ClaudeCliProvider:
    name = "claude-cli"

    def __init__(self, *, path: str, token: str | None, idle_timeout: float) -> None:
        self._path = path
        self._idle_timeout = idle_timeout
        self._env: Mapping[str, str] = cli_env(os.environ, token)

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        binary = shutil.which(self._path)
        if binary is None:
            raise ProviderError(
                f"claude-cli/{request.model}: the Claude CLI ('{self._path}') is not installed "
                "on this worker"
            )
        system, prompt = transcript(request.messages)
        args = ["-p", "--output-format", "stream-json", "--verbose", "--model", request.model]
        args += ["--tools", "", "--strict-mcp-config"]
        if system and len(system) < _MAX_ARG:
            args += ["--system-prompt", system]
        elif system:
            prompt = f"{system}\n\n{prompt}"
        process = await asyncio.create_subprocess_exec(
            binary,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(self._env),
            limit=_LINE_LIMIT,
        )
        try:
            assert process.stdin and process.stdout and process.stderr
            process.stdin.write(prompt.encode())
            await process.stdin.drain()
            process.stdin.close()
            decoder = _Decoder(request.model)
            while True:
                try:
                    async with asyncio.timeout(self._idle_timeout):
                        line = await process.stdout.readline()
                except TimeoutError as exc:
                    raise ProviderError(
                        f"claude-cli/{request.model}: no output for {self._idle_timeout:.0f} s"
                    ) from exc
                if not line:
                    break
                for chunk in decoder.line(line):
                    yield chunk
            async with asyncio.timeout(10):
                stderr = await process.stderr.read()
                code = await process.wait()
            if not decoder.finished:
                # Its diagnostics may name paths and settings: the log has them, the client not.
                log.warning(
                    "the Claude CLI exited with status %s: %s",
                    code,
                    stderr.decode(errors="replace").strip()[-2000:],
                )
                raise ProviderError(
                    f"claude-cli/{request.model}: the CLI failed (exit status {code}); "
                    "the worker's log has its output"
                )
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

    async def aclose(self) -> None:
        return None


class _Decoder:
    """stream-json lines: `stream_event` deltas when the CLI sends them, else whole messages."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._streamed = False
        self.finished = False

    def line(self, raw: bytes) -> list[ProviderChunk]:
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return []  # the CLI's own diagnostics
        if not isinstance(event, dict):
            return []
        kind = event.get("type")
        if kind == "stream_event":
            delta = (event.get("event") or {}).get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                self._streamed = True
                return [TextDelta(delta["text"])]
            if delta.get("type") == "thinking_delta" and delta.get("thinking"):
                self._streamed = True
                return [ReasoningDelta(delta["thinking"])]
        elif kind == "assistant" and not self._streamed:
            chunks: list[ProviderChunk] = []
            for block in (event.get("message") or {}).get("content") or ():
                if block.get("type") == "text" and block.get("text"):
                    chunks.append(TextDelta(block["text"]))
                elif block.get("type") == "thinking" and block.get("thinking"):
                    chunks.append(ReasoningDelta(block["thinking"]))
            return chunks
        elif kind == "result":
            if event.get("is_error") or event.get("subtype") != "success":
                detail = str(event.get("result") or event.get("subtype") or "error")[:300]
                raise ProviderError(f"claude-cli/{self._model}: {detail}")
            self.finished = True
            usage = event.get("usage") or {}
            tokens_in = sum(
                int(usage.get(k) or 0)
                for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            return [Usage(tokens_in, int(usage.get("output_tokens") or 0))]
        return []
