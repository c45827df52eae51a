"""The soak's operations: each drives one flow through the public API, as a client would, and
checks what came back. A wrong result raises `Wrong` with a short reason (no ids in it, so the
same fault counts under one reason); the caller counts it as an error.

Kinds: `chat` (a plain answer; the message carries a fact the extractor must find), `tool` (a
safe tool call), `approve` / `deny` (a call waiting for the owner, decided both ways), `memory`
(a save through the memory tool, a search and a delete through /api/memory, and the check that
earlier chats' facts were extracted), `voice` (a spoken reply and its audio file), `resume` (a
stream cut on purpose, then `GET /api/chat/{job}/events` with `Last-Event-ID`: the answer must
be whole and not doubled) and `cancel` (a long answer stopped midway, through
`/api/chat/{job}/cancel` or `POST /api/stop`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from tests.audio_checks import container_of
from tests.sse import SSEEvent, iter_events

KINDS = ("chat", "tool", "approve", "deny", "memory", "voice", "resume", "cancel")
ASK_TOOL = "reflect"  # made to ask for approval through tool_permissions (no side effects)


class Wrong(Exception):
    """The operation's result is not what the flow promises."""


@dataclass
class Turn:
    """The events one stream delivered (the turn may go on after a deliberate cut)."""

    job: str
    events: list[SSEEvent] = field(default_factory=list)
    first: float | None = None  # seconds from the request to the first event

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e.data for e in self.events if e.type == kind]

    def text(self) -> str:
        return "".join(str(d["text"]) for d in self.of("token"))

    def end(self) -> dict[str, Any]:
        """`done`'s data; anything else at the end is wrong."""
        if not self.events:
            raise Wrong("stream ended without an event")
        last = self.events[-1]
        if last.type == "error":
            raise Wrong(f"error event ({last.data.get('code')})")
        if last.type != "done":
            raise Wrong("stream ended before done")
        return last.data


def _resume_point(turn: Turn) -> tuple[Turn, str]:
    """The events up to the cut and the id to resume after. On a busy machine the whole answer
    may have come before the cut: then resume after its first token event instead."""
    events = turn.events
    if events and events[-1].type in ("done", "error"):
        first_token = next((i for i, e in enumerate(events) if e.type == "token"), None)
        if first_token is None:
            raise Wrong("resume: the answer had no token to resume after")
        events = events[: first_token + 1]
    last = next((i for i in range(len(events) - 1, -1, -1) if events[i].id), None)
    if last is None:
        raise Wrong("resume: no event id before the cut")
    return Turn(turn.job, events[: last + 1]), str(events[last].id)


def failed(what: str, response: httpx.Response) -> Wrong:
    """A refused request, with the api's own reason (short, so equal faults group)."""
    try:
        detail = str(response.json().get("detail", ""))[:70]
    except ValueError:
        detail = ""
    return Wrong(f"{what}: HTTP {response.status_code}" + (f" ({detail})" if detail else ""))


def call(name: str, args: dict[str, Any] | None = None) -> str:
    """The fake LLM's `call=` directive (arguments as percent-encoded JSON)."""
    return f"call={name}:{quote(json.dumps(args or {}))}"


def answer(tokens: int) -> str:
    """The fake LLM's reply to `[[tokens=N]]`."""
    return "".join(f"t{i} " for i in range(tokens))


@dataclass
class Ops:
    """One client of the api; `facts` holds (sent at, fact) of chats whose fact is unchecked."""

    http: httpx.AsyncClient
    tokens: int = 20
    gap_ms: int = 10
    fact_grace: float = 60.0
    facts: deque[tuple[float, str]] = field(default_factory=deque)
    _serial: int = 0

    async def run(self, kind: str, channel: str) -> float | None:
        """Run one operation of `kind` on `channel`; its first-event latency (seconds)."""
        self._serial += 1
        operation: Callable[[str], Any] = getattr(self, f"_{kind}")
        first: float | None = await operation(channel)
        return first

    async def _stream(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        cut: Callable[[Turn], bool] | None = None,
        job: str = "",
    ) -> Turn:
        """Read a stream to its terminal event, or until `cut(turn)` says to hang up."""
        sent = time.perf_counter()
        async with self.http.stream(method, path, json=body, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
                raise failed(f"{method} {path.split('/')[2]}", response)
            turn = Turn(response.headers.get("X-AION-Job", job))
            async for event in iter_events(response):
                if turn.first is None:
                    turn.first = time.perf_counter() - sent
                turn.events.append(event)
                if event.type in ("done", "error") or (cut is not None and cut(turn)):
                    break
        return turn

    async def _chat_turn(self, message: str, channel: str, **extra: Any) -> Turn:
        return await self._stream(
            "POST", "/api/chat", {"message": message, "channel": channel, **extra}
        )

    def _directive(self, tokens: int) -> str:
        return f"[[tokens={tokens} gap={self.gap_ms}]]"

    async def _chat(self, channel: str) -> float | None:
        code = f"F{uuid.uuid4().hex[:10]}"
        fact = f"The owner's soak code is {code}."
        message = f"{fact} {{{{fact: {fact}}}}} {self._directive(self.tokens)}"
        turn = await self._chat_turn(message, channel)
        expected = answer(self.tokens)
        if turn.end()["full_response"] != expected or turn.text() != expected:
            raise Wrong("chat: answer differs from the model's")
        self.facts.append((time.monotonic(), fact))
        return turn.first

    async def _tool(self, channel: str) -> float | None:
        turn = await self._chat_turn(f"what time is it? [[{call('current_time')}]]", channel)
        done = turn.end()
        results = turn.of("tool_result")
        if [(r["name"], r["ok"]) for r in results] != [("current_time", True)]:
            raise Wrong("tool: not one successful current_time result")
        if not done["full_response"].startswith("Tool results: ") or "timezone" not in str(
            done["full_response"]
        ):
            raise Wrong("tool: the result did not reach the model")
        return turn.first

    async def _ask(self, channel: str) -> tuple[Turn, str]:
        thought = f"soak {uuid.uuid4().hex[:8]}"
        turn = await self._chat_turn(f"[[{call(ASK_TOOL, {'thought': thought})}]]", channel)
        done = turn.end()
        approvals = turn.of("approval")
        if len(approvals) != 1 or approvals[0]["tool"] != ASK_TOOL:
            raise Wrong("approval: not one approval event for the tool")
        if approvals[0]["args"] != {"thought": thought}:
            raise Wrong("approval: arguments shown differ from the call's")
        if not done["approval_pending"] or done.get("approval_id") != approvals[0]["id"]:
            raise Wrong("approval: done does not name the pending approval")
        if turn.of("tool_result"):
            raise Wrong("approval: the tool ran before it was approved")
        return turn, str(approvals[0]["id"])

    async def _approve(self, channel: str) -> float | None:
        asked, approval = await self._ask(channel)
        turn = await self._stream("POST", f"/api/approvals/{approval}", {"approve": True})
        done = turn.end()
        if [(r["name"], r["ok"]) for r in turn.of("tool_result")] != [(ASK_TOOL, True)]:
            raise Wrong("approve: the approved call did not run once")
        if done["full_response"] != "Tool results: Noted.":
            raise Wrong("approve: the result did not reach the model")
        return asked.first

    async def _deny(self, channel: str) -> float | None:
        asked, approval = await self._ask(channel)
        response = await self.http.post(f"/api/approvals/{approval}", json={"approve": False})
        if response.status_code != 200 or response.json().get("ok") is not True:
            raise failed("deny", response)
        job = str(response.json()["job"])
        turn = await self._stream("GET", f"/api/chat/{job}/events", job=job)
        done = turn.end()
        results = turn.of("tool_result")
        if len(results) != 1 or results[0]["ok"] is not False:
            raise Wrong("deny: the denied call did not fail once")
        if "declined" not in done["full_response"]:
            raise Wrong("deny: the model was not told")
        return asked.first

    async def _memory(self, channel: str) -> float | None:
        content = f"The owner's locker is number {uuid.uuid4().hex[:10]}."
        turn = await self._chat_turn(f"[[{call('memory_save', {'content': content})}]]", channel)
        turn.end()
        if [(r["name"], r["ok"]) for r in turn.of("tool_result")] != [("memory_save", True)]:
            raise Wrong("memory: memory_save did not succeed")
        await self._check_extracted()
        word = content.rstrip(".").rsplit(" ", 1)[1]
        response = await self.http.get("/api/memory", params={"search": word, "limit": 5})
        if response.status_code != 200:
            raise failed("memory search", response)
        if not await self._delete(response.json()["entries"], content):
            raise Wrong("memory: a saved memory is not found by search")
        return turn.first

    async def _check_extracted(self) -> None:
        """Chats' facts older than the grace must be in memory (each is then deleted, so the
        table stays small); a younger one waits for a later check. Listed, not searched: the
        newest memories need no embedding of a query."""
        now = time.monotonic()
        if not any(now - sent >= self.fact_grace for sent, _ in self.facts):
            return
        pending = list(self.facts)  # other clients add theirs meanwhile
        self.facts.clear()
        response = await self.http.get("/api/memory", params={"limit": 500})
        if response.status_code != 200:
            self.facts.extend(pending)
            raise failed("memory list", response)
        entries = response.json()["entries"]
        missing = 0
        for sent, fact in pending:
            if now - sent >= self.fact_grace and await self._delete(entries, fact):
                continue
            if now - sent < 3 * self.fact_grace:
                self.facts.append((sent, fact))  # not due yet, or once more later
            else:
                missing += 1
        if missing:
            raise Wrong(f"memory: a chat's fact not extracted within {3 * self.fact_grace:g} s")

    async def _delete(self, entries: list[dict[str, Any]], content: str) -> bool:
        """Delete the entry holding `content`; False when there is none."""
        ids = [e["id"] for e in entries if e["content"] == content]
        if not ids:
            return False
        deleted = await self.http.delete(f"/api/memory/{ids[0]}")
        if deleted.status_code != 200:
            raise failed("memory delete", deleted)
        return True

    async def _voice(self, channel: str) -> float | None:
        turn = await self._chat_turn(self._directive(6), channel, voice=True)
        done = turn.end()
        if done["full_response"] != answer(6):
            raise Wrong("voice: answer differs from the model's")
        audio = [b for b in done["response_blocks"] if b["type"] == "audio"]
        if len(audio) != 1:
            raise Wrong("voice: no audio block")
        response = await self.http.get(audio[0]["url"])
        if response.status_code != 200 or response.headers["content-type"] != "audio/mpeg":
            raise Wrong(f"voice: audio file HTTP {response.status_code}")
        if container_of(response.content) != "mp3":
            raise Wrong("voice: the audio file is not MP3")
        return turn.first

    async def _resume(self, channel: str) -> float | None:
        tokens = 2 * self.tokens
        turn = await self._stream(
            "POST",
            "/api/chat",
            {"message": self._directive(tokens), "channel": channel},
            cut=lambda t: len(t.text().split()) >= self.tokens // 2,
        )
        before, last_id = _resume_point(turn)
        rest = await self._stream(
            "GET",
            f"/api/chat/{turn.job}/events",
            headers={"Last-Event-ID": last_id},
            job=turn.job,
        )
        done = rest.end()
        expected = answer(tokens)
        if before.text() + rest.text() != expected:
            raise Wrong("resume: text before and after the cut is not the answer once")
        if done["full_response"] != expected:
            raise Wrong("resume: full_response differs from the model's")
        return turn.first

    async def _cancel(self, channel: str) -> float | None:
        tokens = 20 * self.tokens  # long enough to be stopped midway
        sent = time.perf_counter()
        async with self.http.stream(
            "POST", "/api/chat", json={"message": self._directive(tokens), "channel": channel}
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise failed("POST chat", response)
            turn = Turn(response.headers["X-AION-Job"])
            events = iter_events(response)
            async for event in events:
                turn.first = turn.first or time.perf_counter() - sent
                turn.events.append(event)
                if len(turn.of("token")) >= 3 or event.type in ("done", "error"):
                    break
            await self._stop(turn.job, channel, by_channel=self._serial % 2 == 0)
            async for event in events:
                turn.events.append(event)
                if event.type in ("done", "error"):
                    break
        done = turn.end()
        if done.get("cancelled") is not True:
            raise Wrong("cancel: done is not marked cancelled")
        full = answer(tokens)
        if not full.startswith(turn.text()) or len(turn.text()) >= len(full):
            raise Wrong("cancel: the text is not a cut-short answer")
        return turn.first

    async def _stop(self, job: str, channel: str, *, by_channel: bool) -> None:
        if by_channel:
            response = await self.http.post("/api/stop", json={"channel": channel})
            if response.status_code != 200:
                raise failed("stop", response)
            if response.json().get("job") != job:
                raise Wrong("stop: cancelled another job than the channel's running one")
        else:
            response = await self.http.post(f"/api/chat/{job}/cancel")
            if response.status_code != 200:
                raise failed("cancel", response)
