/**
 * Live notices (GET /api/events, docs/API.md "Live notices"): what the server did on its own —
 * a reminder fired, a turn on another channel ended, an update is out, a plugin or an MCP
 * server failed.
 * Read with fetch and the streaming SSE parser, resumed with Last-Event-ID after a dropped
 * connection (and after a reload: the last id is kept in localStorage), so nothing is missed
 * or shown twice. Screens that show what a notice changes subscribe with `onNotice`.
 */

import { useEffect, useState } from "preact/hooks";
import { ApiError, send } from "./api";
import { SSEParser } from "./sse";
import "./notices.css";

export interface Notice {
  id: string;
  type: string;
  at: string;
  [field: string]: unknown;
}

const LAST_ID_KEY = "aion.notices.lastEventId";
const SHOWN = 5; // newest first; older ones drop off
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Notices that add messages to some channel: lists of channels and conversations reload. */
export const REFRESHING = new Set(["turn_finished", "reminder"]);

type Listener = (notice: Notice) => void;
const listeners = new Set<Listener>();

/** Call `listener` with every notice from now on (e.g. to reload a channel); returns the undo. */
export function onNotice(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** What a notice says, for a person. */
export function describe(notice: Notice): string {
  const s = (name: string) => String(notice[name] ?? "");
  switch (notice.type) {
    case "reminder":
      return `Reminder: ${s("text")} (on ${s("channel")})`;
    case "turn_finished": {
      const how = { done: "answered", error: "failed", cancelled: "was cancelled", approval_pending: "waits for your approval" };
      const outcome = how[s("outcome") as keyof typeof how] ?? "ended";
      const preview = s("preview");
      return `${s("channel")}: AION ${outcome}${preview ? ` — ${preview}` : ""}`;
    }
    case "alexa_to_telegram":
      return "An answer to Alexa was sent to your Telegram chat.";
    case "update_available":
      return `AION ${s("latest_version")} is available (you run ${s("current_version")}).`;
    case "plugin_failed":
      return `Plugin ${s("plugin")} could not be loaded: ${s("error")}`;
    case "mcp_server_failed":
      return `MCP server ${s("server")} failed: ${s("error")}`;
    default:
      return `Notice: ${notice.type}`;
  }
}

function lastId(): string {
  try {
    return localStorage.getItem(LAST_ID_KEY) ?? "";
  } catch {
    return "";
  }
}

function remember(id: string): void {
  try {
    localStorage.setItem(LAST_ID_KEY, id);
  } catch {
    /* storage off: resuming still works within this page */
  }
}

/** Follow the stream until `signal` aborts, reconnecting with backoff; each notice once. */
async function listen(signal: AbortSignal, deliver: Listener): Promise<void> {
  let last = lastId();
  for (let failures = 0; !signal.aborted; ) {
    try {
      const response = await send("GET", "/api/events", undefined, last ? { "Last-Event-ID": last } : {}, signal);
      failures = 0;
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SSEParser();
      for (;;) {
        const { value, done } = await reader.read();
        for (const message of done ? parser.end() : parser.feed(value)) {
          if (message.id === undefined) continue;
          last = message.id;
          remember(last);
          deliver({ ...(JSON.parse(message.data) as Notice), id: message.id });
        }
        if (done) break;
      }
    } catch (error) {
      if (signal.aborted || (error instanceof ApiError && error.status === 401)) return;
      if (error instanceof ApiError && error.status === 400) last = ""; // a stale id: start afresh
      failures++;
    }
    if (!signal.aborted) await sleep(Math.min(1000 * 2 ** failures, 30_000));
  }
}

/** The notices area: the newest few, each dismissable, announced politely to screen readers. */
export function Notices() {
  const [shown, setShown] = useState<Notice[]>([]);

  useEffect(() => {
    const stop = new AbortController();
    listen(stop.signal, (notice) => {
      setShown((list) => [notice, ...list.filter((n) => n.id !== notice.id)].slice(0, SHOWN));
      listeners.forEach((listener) => listener(notice));
    });
    return () => stop.abort();
  }, []);

  return (
    <section class="notices" aria-label="Notices">
      {/* A live region by aria-live alone: role="status" here would take the list's role from it
          (its items then sit outside any list) and add a second status to every screen. */}
      <ul aria-live="polite" aria-label="Recent notices">
        {shown.map((notice) => (
          <li key={notice.id} class={`notice notice-${notice.type}`}>
            <span>{describe(notice)}</span>
            <button type="button" aria-label="Dismiss notice" onClick={() => setShown((list) => list.filter((n) => n.id !== notice.id))}>
              ×
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
