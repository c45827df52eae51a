/**
 * One chat turn as the console shows it: the api's events folded into an answer (pure, in
 * `apply`), and the stream followed to its end (`follow`), resumed with Last-Event-ID after a
 * dropped connection so that nothing is lost or shown twice.
 */

import { api } from "./api";
import { SSEParser } from "./sse";

export type Part =
  | { kind: "text"; text: string }
  | { kind: "thought"; text: string }
  | {
      kind: "tool";
      callId: string;
      name: string;
      args: unknown;
      result?: string;
      ok?: boolean;
      durationMs?: number;
      percent?: number;
      label?: string;
    }
  | {
      kind: "approval";
      id: string;
      tool: string;
      args: unknown;
      message: string;
      state: "pending" | "approved" | "denied" | "failed";
    };

export interface Answer {
  parts: Part[];
  running: boolean;
  cancelled: boolean;
  error?: string;
  usage?: { input: number; output: number };
  audio: string[];
}

export const emptyAnswer = (): Answer => ({ parts: [], running: true, cancelled: false, audio: [] });

type Data = Record<string, unknown>;

function appendText(parts: Part[], kind: "text" | "thought", text: string): Part[] {
  const last = parts[parts.length - 1];
  if (last && last.kind === kind) return [...parts.slice(0, -1), { ...last, text: last.text + text }];
  return [...parts, { kind, text }];
}

function updateTool(parts: Part[], callId: string, change: Partial<Extract<Part, { kind: "tool" }>>): Part[] {
  return parts.map((p) => (p.kind === "tool" && p.callId === callId ? { ...p, ...change } : p));
}

/** The answer after one more event (a pure function: the tests and the view share it). */
export function apply(answer: Answer, type: string, data: Data): Answer {
  switch (type) {
    case "token":
      return { ...answer, parts: appendText(answer.parts, "text", String(data.text ?? "")) };
    case "thought":
      return { ...answer, parts: appendText(answer.parts, "thought", String(data.text ?? "")) };
    case "tool_call":
      return {
        ...answer,
        parts: [...answer.parts, { kind: "tool", callId: String(data.call_id), name: String(data.name), args: data.args }],
      };
    case "tool_result":
      return {
        ...answer,
        parts: updateTool(answer.parts, String(data.call_id), {
          result: typeof data.result === "string" ? data.result : JSON.stringify(data.result),
          ok: Boolean(data.ok),
          durationMs: Number(data.duration_ms ?? 0),
        }),
      };
    case "progress":
      return {
        ...answer,
        parts: updateTool(answer.parts, String(data.call_id), { percent: Number(data.percent), label: String(data.label ?? "") }),
      };
    case "usage":
      return {
        ...answer,
        usage: {
          input: (answer.usage?.input ?? 0) + Number(data.input_tokens ?? 0),
          output: (answer.usage?.output ?? 0) + Number(data.output_tokens ?? 0),
        },
      };
    case "approval":
      return {
        ...answer,
        parts: [
          ...answer.parts,
          { kind: "approval", id: String(data.id), tool: String(data.tool), args: data.args, message: String(data.message ?? ""), state: "pending" },
        ],
      };
    case "done": {
      const blocks = Array.isArray(data.response_blocks) ? (data.response_blocks as Data[]) : [];
      const audio = blocks.filter((b) => b.type === "audio" && typeof b.url === "string").map((b) => String(b.url));
      return { ...answer, running: false, cancelled: Boolean(data.cancelled), audio };
    }
    case "error":
      return { ...answer, running: false, error: String(data.message ?? "The turn failed.") };
    default:
      return answer;
  }
}

export interface Follow {
  /** Called with each new event, in order, never twice for one id. */
  onEvent: (type: string, data: Data) => void;
  /** Called once the turn's job id is known (for Cancel). */
  onJob?: (job: string) => void;
  signal?: AbortSignal;
}

const RETRIES = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Read a turn's stream (from `first`, e.g. the POST /api/chat response) to its last event;
 * when the connection drops first, resume it with GET /api/chat/{job}/events and Last-Event-ID.
 */
export async function follow(first: Response, how: Follow): Promise<void> {
  const job = first.headers.get("X-AION-Job") ?? "";
  if (job) how.onJob?.(job);
  let lastId = "";
  let response: Response | undefined = first;
  for (let attempt = 0; ; attempt++) {
    try {
      if (!response) response = await api.events(job, lastId, how.signal);
      const ended = await read(response, how, (id) => (lastId = id));
      if (ended) return;
    } catch (error) {
      if (how.signal?.aborted || !job) throw error;
    }
    response = undefined;
    if (attempt >= RETRIES) throw new Error("The connection to the server was lost.");
    await sleep(Math.min(250 * 2 ** attempt, 4000));
  }
}

/** True when the turn ended (done, or an error of the turn itself). */
async function read(response: Response, how: Follow, seen: (id: string) => void): Promise<boolean> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SSEParser();
  for (;;) {
    const { value, done } = await reader.read();
    const messages = done ? parser.end() : parser.feed(value);
    for (const message of messages) {
      const data = JSON.parse(message.data) as Data;
      if (message.id === undefined && message.event === "error") return false; // the relay's: resume
      if (message.id !== undefined) seen(message.id);
      how.onEvent(message.event, data);
      if (message.event === "done" || message.event === "error") {
        await reader.cancel().catch(() => {});
        return true;
      }
    }
    if (done) return false; // cut off before the turn ended
  }
}
