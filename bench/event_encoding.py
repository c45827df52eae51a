"""Encoding cost of turn events: the worker encodes every token event, so aliases kept for old
clients (shared/events.py) must not make it noticeably dearer.

`python -m bench.event_encoding` prints microseconds per encode and bytes per event for a
token, a tool call and a done event, best of several rounds (the least disturbed one).
"""

from __future__ import annotations

import argparse
import timeit
from functools import partial

from shared.events import DoneEvent, Event, TextBlock, TokenEvent, ToolCallEvent, decode, encode

SAMPLES: dict[str, Event] = {
    "token": TokenEvent(text="Hello, wor"),
    "tool_call": ToolCallEvent(name="web_fetch", args={"url": "https://example.com"}, call_id="c1"),
    "done": DoneEvent(full_response="Hello, world", response_blocks=[TextBlock(content="x")]),
}


def measure(rounds: int, number: int) -> dict[str, tuple[float, float, int]]:
    """(encode µs, decode µs, bytes) per sample, best of `rounds`."""
    figures = {}
    for name, event in SAMPLES.items():
        data = encode(event)
        enc = min(timeit.repeat(partial(encode, event), number=number, repeat=rounds))
        dec = min(timeit.repeat(partial(decode, data), number=number, repeat=rounds))
        figures[name] = (enc / number * 1e6, dec / number * 1e6, len(data.encode()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{'event':<10} {'encode µs':>10} {'decode µs':>10} {'bytes':>6}")
    for name, (enc, dec, size) in measure(args.rounds, args.number).items():
        print(f"{name:<10} {enc:>10.3f} {dec:>10.3f} {size:>6}")


if __name__ == "__main__":
    main()
