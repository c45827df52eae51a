"""The web console's budgets, measured in headless Chromium against the real stack.

`python -m bench.console` (the console must be built: `make console`) sets up what
`bench.chat_overhead` does (a fresh database, a flushed Redis db, the fake LLM, an api and a
worker), then drives Debian's chromium (AION_CHROMIUM, default /usr/bin/chromium) and reports:

- **first load**: the JavaScript the signed-in chat screen loads, as served and gzipped
  (level 9, as a reverse proxy would send it); budget 150 KB.
- **a long conversation**: one of `--messages` (2,000) messages opened in History: time until
  its first message is on the page, then scrolled to the last by steps of 400 px, one per
  frame (the console renders the rest in chunks as they come near): the time that took, frame
  times (p50, p95, max, frames over 50 ms) and long tasks (count, total, longest) from the
  browser's own PerformanceObserver.
- **time to first token**: the same short answer asked `--rounds` times each way, interleaved:
  read straight from the SSE stream (`POST /api/chat`) and through the console (from the form's
  submit to the first token's text in the page). The difference of the medians is what the
  console adds; budget 30 ms.

A table goes to stdout, then one JSON line (`--json PATH` saves it too).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from playwright.async_api import Page, Response, async_playwright

from bench.overhead.common import log
from bench.overhead.system import System, start_system

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("AION_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
JS_BUDGET_KB = 150
TTFT_BUDGET_MS = 30

# Scrolls the conversation's scroll container to its end, one step per frame, while the
# browser records long tasks; returns the frame times and the long tasks.
_SCROLL = """async (step) => {
  const box = document.querySelector("main.page");
  const long = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) long.push(e.duration);
  });
  observer.observe({ type: "longtask", buffered: false });
  const frames = [];
  let last = performance.now();
  await new Promise((done) => {
    const tick = (now) => {
      frames.push(now - last);
      last = now;
      const before = box.scrollTop;
      box.scrollTop = before + step;
      if (box.scrollTop === before) return done();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await new Promise((r) => setTimeout(r, 100));
  observer.disconnect();
  return { frames: frames.slice(1), long, height: box.scrollHeight };
}"""

# Submits the message box and waits for the first token of the new answer in the page.
_ASK = """async (marker) => {
  const answers = () => document.querySelectorAll('article[aria-label="AION"]');
  const before = answers().length;
  const form = document.querySelector("form.composer");
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const observer = new MutationObserver(() => {
      const all = answers();
      if (all.length > before && all[all.length - 1].textContent.includes(marker)) {
        observer.disconnect();
        resolve(performance.now() - t0);
      }
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
    form.requestSubmit();
  });
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def sign_in(page: Page, token: str, path: str) -> None:
    await page.goto(path)
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Sign out").wait_for()


async def first_load(page: Page, token: str) -> dict[str, Any]:
    """The JavaScript of a first visit, signed in on the chat screen."""
    scripts: list[Response] = []
    page.on(
        "response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None
    )
    await sign_in(page, token, "/")
    await page.get_by_label("Message").wait_for()
    # "load", not "networkidle": the notices stream (GET /api/events) stays open by design.
    await page.wait_for_load_state("load")
    raw = gz = 0
    for response in scripts:
        body = await response.body()
        raw += len(body)
        gz += len(gzip.compress(body, 9))
    return {
        "js_files": len(scripts),
        "js_bytes": raw,
        "js_gzip_bytes": gz,
        "budget_kb": JS_BUDGET_KB,
    }


async def long_conversation(page: Page, database_url: str, count: int) -> dict[str, Any]:
    """A conversation of `count` messages opened and scrolled in History."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db:
        cur = await db.execute(
            "INSERT INTO conversations (channel, closed_at) "
            "VALUES ('bench-long', now()) RETURNING id"
        )
        row = await cur.fetchone()
        assert row is not None
        conversation_id = row[0]
        words = "Some **markdown** with `code` and a [link](https://example.com). " * 3
        async with (
            db.cursor() as copy_cur,
            copy_cur.copy("COPY messages (conversation_id, role, content) FROM STDIN") as copy,
        ):
            for n in range(count):
                role = "user" if n % 2 == 0 else "assistant"
                await copy.write_row((conversation_id, role, f"Message {n}. {words}"))
    start = time.perf_counter()
    await page.goto(f"/history/{conversation_id}")
    await page.locator("article", has_text="Message 0.").wait_for(timeout=120_000)
    opened_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    scrolled = await page.evaluate(_SCROLL, 400)
    scrolled_ms = (time.perf_counter() - start) * 1000
    reached_end = await page.locator("article", has_text=f"Message {count - 1}.").count() == 1
    frames: list[float] = scrolled["frames"]
    long: list[float] = scrolled["long"]
    return {
        "messages": count,
        "open_ms": round(opened_ms),
        "scroll_to_end_ms": round(scrolled_ms),
        "reached_the_last_message": reached_end,
        "scroll_frames": len(frames),
        "frame_ms_p50": round(percentile(frames, 0.5), 1),
        "frame_ms_p95": round(percentile(frames, 0.95), 1),
        "frame_ms_max": round(max(frames, default=0), 1),
        "frames_over_50ms": sum(f > 50 for f in frames),
        "long_tasks_while_scrolling": len(long),
        "long_task_ms_total": round(sum(long)),
        "long_task_ms_max": round(max(long, default=0)),
    }


async def direct_ttft(api_url: str, token: str, message: str) -> float:
    """From sending POST /api/chat to its first token event, read straight off the stream."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"message": message, "channel": f"bench-direct-{uuid.uuid4().hex[:6]}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        await client.get("/api/status")  # the connection is open before the clock starts
        start = time.perf_counter()
        first = None
        async with client.stream("POST", "/api/chat", json=body, headers=headers) as response:
            async for line in response.aiter_lines():  # to the end: the turn is over after
                if first is None and line == "event: token":
                    first = (time.perf_counter() - start) * 1000
        if first is not None:
            return first
    raise RuntimeError("no token came")


async def console_ttft(page: Page, message: str) -> float:
    box = page.get_by_label("Message")
    await box.fill(message)
    elapsed: float = await page.evaluate(_ASK, "t0")
    await page.get_by_role("button", name="Send").wait_for()  # the turn ended
    return elapsed


async def ttft(page: Page, system: System, rounds: int) -> dict[str, Any]:
    message = "Quick one [[tokens=3]]"
    await page.goto(f"/chat/bench-console-{uuid.uuid4().hex[:6]}")
    await page.get_by_label("Message").wait_for()
    direct: list[float] = []
    through: list[float] = []
    for n in range(rounds + 1):  # the first round of each is a warm-up
        d = await direct_ttft(system.stack.api_url, system.api_token, message)
        c = await console_ttft(page, message)
        if n:
            direct.append(d)
            through.append(c)
    added = statistics.median(through) - statistics.median(direct)
    return {
        "rounds": rounds,
        "direct_ms_p50": round(statistics.median(direct), 1),
        "console_ms_p50": round(statistics.median(through), 1),
        "direct_ms_p95": round(percentile(direct, 0.95), 1),
        "console_ms_p95": round(percentile(through, 0.95), 1),
        "added_ms_p50": round(added, 1),
        "budget_ms": TTFT_BUDGET_MS,
    }


async def run(args: argparse.Namespace, system: System) -> dict[str, Any]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(
            base_url=system.stack.api_url, viewport={"width": 1280, "height": 800}
        )
        page = await context.new_page()
        log("first load")
        load = await first_load(page, system.api_token)
        log(f"time to first token, {args.rounds} rounds each way")
        first_token = await ttft(page, system, args.rounds)
        log(f"a conversation of {args.messages} messages")
        long = await long_conversation(page, system.stack.env["DATABASE_URL"], args.messages)
        await browser.close()
    return {
        "benchmark": "console",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "first_load": load,
        "ttft": first_token,
        "long_conversation": long,
    }


def report(result: dict[str, Any]) -> str:
    load, first, long = result["first_load"], result["ttft"], result["long_conversation"]
    gz_kb = load["js_gzip_bytes"] / 1024
    lines = [
        f"first load JS: {load['js_files']} file(s), {load['js_bytes'] / 1024:.1f} KB, "
        f"{gz_kb:.1f} KB gzipped (budget {JS_BUDGET_KB} KB: "
        f"{'ok' if gz_kb <= JS_BUDGET_KB else 'OVER'})",
        f"TTFT p50: direct {first['direct_ms_p50']} ms, console {first['console_ms_p50']} ms, "
        f"added {first['added_ms_p50']} ms (budget {TTFT_BUDGET_MS} ms: "
        f"{'ok' if first['added_ms_p50'] <= TTFT_BUDGET_MS else 'OVER'})",
        f"{long['messages']} messages: opened in {long['open_ms']} ms; scrolled to the end "
        f"({'reached' if long['reached_the_last_message'] else 'NOT reached'}) in "
        f"{long['scroll_to_end_ms']} ms, "
        f"{long['scroll_frames']} frames, p50 {long['frame_ms_p50']} ms, p95 "
        f"{long['frame_ms_p95']} ms, max {long['frame_ms_max']} ms, "
        f"{long['frames_over_50ms']} over 50 ms; long tasks {long['long_tasks_while_scrolling']} "
        f"({long['long_task_ms_total']} ms, longest {long['long_task_ms_max']} ms)",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=2000, help="of the long conversation")
    parser.add_argument("--rounds", type=int, default=15, help="TTFT samples each way")
    parser.add_argument("--redis-db", type=int, default=13, help="flushed before and after")
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 100_000 or not 1 <= args.rounds <= 1000:
        parser.error("--messages 1..100000, --rounds 1..1000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (ROOT / "console" / "dist" / "index.html").is_file():
        print("the console is not built: run `make console` first", file=sys.stderr)
        return 2
    with start_system(args.redis_db, args.keep_logs) as system:
        result = asyncio.run(run(args, system))
    print(report(result))
    line = json.dumps(result)
    print(line)
    if args.json:
        args.json.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
