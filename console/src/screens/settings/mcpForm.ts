/** The MCP panel's pure parts: the add form's draft turned into the api's body, a 422 put back
 * on the form's fields, and what a change did, said in a sentence. */

import type { McpApplied, McpRisk, McpServerBody, McpServerView } from "../../api";
import { fieldErrors } from "../../fields";
import { newPair, pairsToRecord, type Pair } from "../../ui/pairs";

export type Transport = "http" | "stdio";

export interface McpDraft {
  transport: Transport;
  name: string;
  risk: McpRisk;
  url: string;
  headers: Pair[];
  command: string;
  args: string; // one argument per line
  env: Pair[];
}

/** The form's fields that a 422 may name (the api's names). */
export const FIELDS = ["name", "risk", "url", "headers", "command", "args", "env"] as const;

export function emptyDraft(transport: Transport = "http"): McpDraft {
  return { transport, name: "", risk: "ask", url: "", headers: [newPair()], command: "", args: "", env: [newPair()] };
}

/** One argument per line; blank lines dropped (an argument keeps its inner spaces). */
export function argsOf(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** The body for POST /api/mcp/servers, or the problem (and its field) the api cannot see: two
 * rows of one name, a value with no name. Everything else is left to the api to judge. */
export function serverBody(draft: McpDraft): { body: McpServerBody } | { problem: string; field: string } {
  const name = draft.name.trim();
  if (draft.transport === "http") {
    const headers = pairsToRecord(draft.headers, "Header");
    if ("problem" in headers) return { problem: headers.problem, field: "headers" };
    const body: McpServerBody = { name, transport: "http", url: draft.url.trim(), risk: draft.risk };
    if (Object.keys(headers.record).length) body.headers = headers.record;
    return { body };
  }
  const env = pairsToRecord(draft.env, "Variable");
  if ("problem" in env) return { problem: env.problem, field: "env" };
  const body: McpServerBody = { name, transport: "stdio", command: draft.command.trim(), risk: draft.risk };
  const args = argsOf(draft.args);
  if (args.length) body.args = args;
  if (Object.keys(env.record).length) body.env = env.record;
  return { body };
}

/** A 422's detail on the form's fields. The api names a field under its transport
 * ("http.name: …"); the form's fields are the same for both. */
export function fieldErrorsOf(detail: string, transport: Transport): Record<string, string> {
  const plain = detail
    .split("; ")
    .map((part) => (part.startsWith(`${transport}.`) ? part.slice(transport.length + 1) : part))
    .join("; ");
  return fieldErrors(plain, [...FIELDS]);
}

const tools = (n: number) => `${n} ${n === 1 ? "tool" : "tools"}`;

/** What adding, enabling or disabling a server did, as the workers saw it. */
export function appliedNote(applied: McpApplied, done: "added" | "enabled" | "disabled"): string {
  const { name, status, error, unconfirmed } = applied;
  let said: string;
  if (done === "disabled") said = `${name} disabled; its tools are no longer offered.`;
  else if (status === "connected") said = `${name} ${done}: connected, ${tools(applied.tools.length)}.`;
  else if (status === "error") said = `${name} ${done}, but not connected: ${error ?? "unknown error"}`;
  else said = `${name} ${done}; no worker has reported on it yet.`;
  if (unconfirmed.length) said += ` Not confirmed by ${unconfirmed.join(", ")}.`;
  return said;
}

/** Where a server is: its URL, or its command with its arguments. */
export function whereOf(server: Pick<McpServerView, "transport" | "url" | "command" | "args">): string {
  if (server.transport === "http") return server.url ?? "";
  return [server.command ?? "", ...(server.args ?? [])].join(" ");
}
