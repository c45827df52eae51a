"""Tool overhead: what an instant tool call adds to a turn, measured side by side in one run.

`python -m bench.tool_overhead` sets up the same system as bench.chat_overhead (fresh database,
Redis db, fake LLM, one api and one worker) and runs, interleaved round by round:
- NO TOOL: a turn the fake LLM answers with a few tokens;
- TOOL xN: the same turn, but the model first asks for the built-in instant tool
  `current_time` in N successive rounds (each round = one tool call + one more model request);
- DIRECT: the extra model requests a tool turn makes, sent straight to the fake LLM: the very
  bodies AION sent in a warm-up turn (tools, system prompt, the tool round), as recorded by it.
Reported: `tool_call` → `tool_result` as the client sees it (p50/p99), end-to-end turn times,
and the time AION adds per instant tool call = (TOOL xN - NO TOOL - N * DIRECT) / N.
Memory extraction is turned off for the run (it would run after every turn, on the same worker).
The system we replace polls for tool results every 0.3 s (≥ 300 ms per call); target ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

import httpx
import orjson

from bench.overhead.common import log
from bench.overhead.stats import ms, percentile
from bench.overhead.system import start_system
from tests.sse import parse_block

TOOL = "current_time"


async def aion_turn(http: httpx.AsyncClient, text: str, channel: str) -> dict[str, Any]:
    """One chat turn; the arrival time of every event, relative to the request."""
    started = time.perf_counter()
    stamps: list[tuple[str, float, dict[str, Any]]] = []
    body = {"message": text, "channel": channel}
    async with http.stream("POST", "/api/chat", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {(await response.aread())[:300]!r}")
        buffer = ""
        async for chunk in response.aiter_text():
            buffer += chunk.replace("\r\n", "\n")
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                event = parse_block(block)
                if event is not None:
                    stamps.append((event.type, time.perf_counter() - started, event.data))
        if not stamps or stamps[-1][0] != "done":
            raise RuntimeError(f"turn did not end with done: {stamps[-1:]}")
    gaps = []
    calls = {d["call_id"]: t for kind, t, d in stamps if kind == "tool_call"}
    for kind, t, data in stamps:
        if kind == "tool_result":
            if not data["ok"]:
                raise RuntimeError(f"tool failed: {data}")
            gaps.append(t - calls[data["call_id"]])
    return {"total": stamps[-1][1], "call_to_result": gaps}


async def recorded_extra_requests(
    http: httpx.AsyncClient, api: httpx.AsyncClient, llm_url: str, text: str, calls: int
) -> list[bytes]:
    """The model requests a tool turn makes beyond the first, exactly as AION sent them."""
    await http.delete(f"{llm_url}/_requests")
    await aion_turn(api, text, "bench-recorded")
    bodies = (await http.get(f"{llm_url}/_requests")).json()
    await http.delete(f"{llm_url}/_requests")  # the recorder stays small during the run
    turn = [b for b in bodies if "tools" in b][-(calls + 1) :]  # not the memory extractor's
    if len(turn) != calls + 1:
        raise RuntimeError(f"expected {calls + 1} model requests, the fake got {len(turn)}")
    return [orjson.dumps(body) for body in turn[1:]]


async def direct_request(http: httpx.AsyncClient, llm_url: str, body: bytes) -> float:
    """One model request straight to the fake LLM (streamed to the end)."""
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    started = time.perf_counter()
    async with http.stream(
        "POST", f"{llm_url}/v1/chat/completions", content=body, headers=headers
    ) as response:
        async for _ in response.aiter_bytes():
            pass
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with start_system(args.redis_db, keep_logs=False, record=True) as system:
        headers = {"Authorization": f"Bearer {system.api_token}"}
        async with (
            httpx.AsyncClient(base_url=system.stack.api_url, headers=headers, timeout=60) as api,
            httpx.AsyncClient(timeout=60) as llm,
        ):
            plain = "[[tokens=5]]"
            with_tools = f"[[call={TOOL} rounds={args.calls}]]"
            # Memory extraction after every turn would share the worker with what is measured.
            await api.post("/api/config/settings", json={"memory_auto": False})
            log("warm-up")
            extra = await recorded_extra_requests(llm, api, system.llm_url, with_tools, args.calls)
            for i in range(20):
                await aion_turn(api, plain, f"warm-{i % 4}")
                await aion_turn(api, with_tools, f"warm-{i % 4}")
                await direct_request(llm, system.llm_url, extra[0])
            await llm.delete(f"{system.llm_url}/_requests")
            base: list[float] = []
            tool: list[float] = []
            direct: list[float] = []
            gaps: list[float] = []
            log(f"{args.turns} rounds, {args.calls} tool call(s) per tool turn")
            for i in range(args.turns):
                channel = f"bench-{i % 8}"
                base.append((await aion_turn(api, plain, channel))["total"])
                measured = await aion_turn(api, with_tools, channel)
                tool.append(measured["total"])
                gaps += measured["call_to_result"]
                direct.append(sum([await direct_request(llm, system.llm_url, b) for b in extra]))
                if i % 50 == 49:
                    await llm.delete(f"{system.llm_url}/_requests")
    med_base, med_tool, med_direct = map(statistics.median, (base, tool, direct))
    added = (med_tool - med_base - med_direct) / args.calls
    return {
        "turns": args.turns,
        "calls_per_tool_turn": args.calls,
        "call_to_result_p50_ms": ms(percentile(gaps, 50)),
        "call_to_result_p99_ms": ms(percentile(gaps, 99)),
        "turn_without_tool_p50_ms": ms(med_base),
        "turn_with_tools_p50_ms": ms(med_tool),
        "direct_extra_requests_p50_ms": ms(med_direct),
        "added_per_tool_call_ms": ms(added),
        "target_ms": 5.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=200, help="measured rounds")
    parser.add_argument("--calls", type=int, default=3, help="tool rounds per tool turn")
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    width = max(map(len, report))
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    print(orjson.dumps(report).decode())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
