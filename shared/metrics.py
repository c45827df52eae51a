"""Every Prometheus metric AION exports, defined once, named `aion_*`.

Services record through the small helpers below rather than touching metric objects, so a
call site stays one line and label values stay bounded (route templates, provider names,
outcome codes: never ids or user text). Metric objects live in prometheus-client's process-wide
registry, as the library intends; each process exports only what it recorded (the api its HTTP
and queue metrics, the worker its turn and provider metrics, tts its synthesis time).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from shared.events import DoneEvent, ErrorEvent, Event

# Latency buckets in seconds, from a fast token to a slow tool-using turn.
_LATENCY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

# -- api -------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "aion_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
SSE_STREAMS_OPEN = Gauge("aion_sse_streams_open", "Turn event streams this api relays now.")
QUEUE_DEPTH = Gauge(
    "aion_queue_depth",
    "Turn jobs in the arq queue `aion:queue`, waiting or running (arq removes a job when it ends).",
)
WORKERS_LIVE = Gauge("aion_workers_live", "Worker processes whose heartbeat lease is current.")

# -- worker: turns ---------------------------------------------------------------------------
TURNS_STARTED = Counter("aion_turns_started_total", "Turns a worker started running.")
TURNS_FINISHED = Counter(
    "aion_turns_finished_total",
    "Turns that ended, by outcome: done, cancelled, approval_pending or an error code.",
    ["outcome"],
)
TURNS_FAILED = Counter(
    "aion_turns_failed_total", "Turns that ended with an `error` event, by its code.", ["code"]
)
FIRST_TOKEN_SECONDS = Histogram(
    "aion_turn_first_token_seconds",
    "From a worker taking a turn to the turn's first token.",
    buckets=_LATENCY,
)

# -- worker: providers and tools -------------------------------------------------------------
PROVIDER_LATENCY_SECONDS = Histogram(
    "aion_provider_latency_seconds",
    "From sending a provider request to its first streamed chunk, by provider.",
    ["provider"],
    buckets=_LATENCY,
)
PROVIDER_DURATION_SECONDS = Histogram(
    "aion_provider_duration_seconds",
    "Whole provider calls, request to end of stream, by provider.",
    ["provider"],
    buckets=_LATENCY,
)
PROVIDER_ERRORS = Counter(
    "aion_provider_errors_total", "Provider calls that failed, by provider.", ["provider"]
)
TOOL_CALLS = Counter(
    "aion_tool_calls_total",
    "Tool calls, by tool and outcome (ok, error, denied).",
    ["tool", "outcome"],
)
TOOL_SECONDS = Histogram(
    "aion_tool_duration_seconds", "Time a tool call ran, by tool.", ["tool"], buckets=_LATENCY
)
MEMORY_SEARCH_SECONDS = Histogram(
    "aion_memory_search_seconds", "Hybrid memory searches (vector + full text).", buckets=_FAST
)
KNOWLEDGE_SEARCH_SECONDS = Histogram(
    "aion_knowledge_search_seconds",
    "Hybrid knowledge-base searches (vector + full text).",
    buckets=_FAST,
)

# -- tts -------------------------------------------------------------------------------------
TTS_SECONDS = Histogram(
    "aion_tts_synthesis_seconds", "Text to audio file, by engine.", ["engine"], buckets=_LATENCY
)


def http_request(route: str, method: str, status: int) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()


def turn_started() -> None:
    TURNS_STARTED.inc()


def turn_ended(event: Event) -> None:
    """Count a turn's terminal event (`done` or `error`) under its outcome."""
    if isinstance(event, ErrorEvent):
        TURNS_FINISHED.labels(event.code).inc()
        TURNS_FAILED.labels(event.code).inc()
    elif isinstance(event, DoneEvent):
        if event.cancelled:
            outcome = "cancelled"
        elif event.approval_pending:
            outcome = "approval_pending"
        else:
            outcome = "done"
        TURNS_FINISHED.labels(outcome).inc()


def first_token(seconds: float) -> None:
    FIRST_TOKEN_SECONDS.observe(seconds)


def provider_first_chunk(provider: str, seconds: float) -> None:
    PROVIDER_LATENCY_SECONDS.labels(provider).observe(seconds)


def provider_finished(provider: str, seconds: float, *, failed: bool) -> None:
    PROVIDER_DURATION_SECONDS.labels(provider).observe(seconds)
    if failed:
        PROVIDER_ERRORS.labels(provider).inc()


def tool_call(tool: str, outcome: str, seconds: float) -> None:
    """For the tool runner (agent loop): one call of `tool` that ended as `outcome`."""
    TOOL_CALLS.labels(tool, outcome).inc()
    TOOL_SECONDS.labels(tool).observe(seconds)


def memory_search(seconds: float) -> None:
    """For the memory service: one hybrid search."""
    MEMORY_SEARCH_SECONDS.observe(seconds)


def knowledge_search(seconds: float) -> None:
    """For the knowledge base: one hybrid search over the chunks."""
    KNOWLEDGE_SEARCH_SECONDS.observe(seconds)


def tts_synthesis(engine: str, seconds: float) -> None:
    """For the tts engines: one synthesis."""
    TTS_SECONDS.labels(engine).observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text of everything this process recorded, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
