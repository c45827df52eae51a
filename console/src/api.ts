/**
 * The one API client of the console: every request to the api goes through here. The session
 * cookie rides along by itself (same origin); the token is never kept by the page.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
    readonly retryAfter?: number,
  ) {
    super(detail);
  }
}

/** Called on any 401: the session ended, the console goes back to sign-in. */
let onUnauthorized: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onUnauthorized = handler;
}

async function fail(response: Response): Promise<never> {
  let error = "HTTPError";
  let detail = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: string; detail?: string };
    error = body.error ?? error;
    detail = body.detail ?? detail;
  } catch {
    /* not JSON: keep the status text */
  }
  const retry = Number(response.headers.get("Retry-After") ?? "") || undefined;
  throw new ApiError(response.status, error, detail, retry);
}

/** Any request; throws ApiError on a non-2xx answer. */
export async function send(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers }, credentials: "same-origin", signal };
  if (body !== undefined) {
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && path !== "/api/session") onUnauthorized();
  if (!response.ok) await fail(response);
  return response;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await (await send(method, path, body)).json()) as T;
}

export interface Channel {
  id: string;
  label: string;
  count: number;
  last_ts: string | null;
  last_msg: string | null;
}
export interface StoredMessage {
  role: "user" | "assistant";
  content: string;
  timestamp: string;
}

export interface ConversationSummary {
  id: number;
  channel: string;
  title: string;
  started_at: string;
  last_at: string;
  messages: number;
  open: boolean;
}
export interface ConversationDetail {
  id: number;
  channel: string;
  title: string;
  open: boolean;
  started_at: string;
  messages: StoredMessage[];
}
export interface Provider {
  id: string;
  label: string;
  prefix: string;
  models: string[];
  env_keys: string[];
  configured: boolean;
}
export interface KeyState {
  key: string;
  set: boolean;
  source: "vault" | "env" | "unset";
  masked: string | null;
}
export interface KeysView {
  providers: { label: string; env_keys: KeyState[] }[];
  other_keys: KeyState[];
}
export interface PromptView {
  name: string;
  content: string;
  updated_at: string | null;
  revision: number;
}
export interface MemoryEntry {
  id: number;
  timestamp: string;
  category: string;
  content: string;
  channel: string | null;
}
export interface PluginView {
  name: string;
  version: string;
  description: string;
  enabled: boolean;
  loaded: boolean;
  error: string | null;
  tools: { name: string; description: string; risk: string }[];
}
/** An MCP server as GET /api/mcp/servers shows it (docs/API.md "MCP servers"): header and env
 * values masked; `status` is what the last worker to report saw. */
export interface McpServerView {
  name: string;
  transport: "http" | "stdio";
  risk: McpRisk;
  timeout_seconds: number;
  enabled: boolean;
  url?: string;
  command?: string;
  args?: string[];
  headers?: Record<string, string>;
  env?: Record<string, string>;
  status: McpState;
  error?: string | null;
  tools: { name: string; description: string; risk: string }[];
}
export type McpState = "connected" | "error" | "disabled";
export type McpRisk = "ask" | "allow";
/** What POST /api/mcp/servers takes: one transport's fields. */
export type McpServerBody = { name: string; risk: McpRisk } & (
  | { transport: "http"; url: string; headers?: Record<string, string> }
  | { transport: "stdio"; command: string; args?: string[]; env?: Record<string, string> }
);
/** A server added, enabled or disabled, as the workers that answered saw it (status null: none did). */
export interface McpApplied {
  name: string;
  enabled?: boolean;
  status: McpState | null;
  error: string | null;
  tools: McpServerView["tools"];
  unconfirmed: string[];
}
export interface PendingApproval {
  id: string;
  channel: string;
  tool: string;
  args: unknown;
  expires_at: string;
}
export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  properties?: Record<string, JsonSchema>;
}
export interface TelegramView {
  token_set: boolean;
  token_masked: string | null;
  allowed_ids: string[];
  group_chats: string[];
  owner_chat: string | null;
  polling_active: boolean;
}
export interface StatusView {
  status: string;
  version: string;
  model: string;
  uptime: number;
  memory_entries: number;
  services: { postgres: string; redis: string; workers: number };
}
export interface ClaudeCliView {
  installed: boolean;
  authenticated: boolean;
  path: string | null;
  version: string | null;
}
export interface UpdateStatus {
  current_version: string;
  latest_version: string | null;
  update_available: boolean;
  release_url: string | null;
  release_notes: string | null;
  last_checked: string | null;
  error: string | null;
}

export interface ChatOptions {
  model?: string;
  voice?: boolean;
  images?: string[];
  files?: string[];
}

/** A stored file as POST /api/files answers it (docs/API.md "Files"). */
export interface StoredFile {
  id: string;
  name: string;
  mime: string;
  size: number;
  status: "ready" | "pending" | "failed";
  chars: number;
  pages?: number;
}

/** Upload one file as multipart (the browser sets the boundary); throws ApiError on 4xx. */
async function uploadFile(file: File): Promise<StoredFile> {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch("/api/files", { method: "POST", body: form, credentials: "same-origin" });
  if (response.status === 401) onUnauthorized();
  if (!response.ok) await fail(response);
  return (await response.json()) as StoredFile;
}

const q = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : "";
};
const seg = encodeURIComponent;

export const api = {
  signIn: (token: string) => send("POST", "/api/session", { token }),
  signOut: () => send("DELETE", "/api/session"),
  channels: () => json<{ channels: Channel[] }>("GET", "/api/channels"),
  history: (channel: string) =>
    json<{ messages: StoredMessage[] }>("GET", `/api/history?channel=${encodeURIComponent(channel)}&limit=200`),
  chat: (message: string, channel: string, signal?: AbortSignal, options: ChatOptions = {}) =>
    send("POST", "/api/chat", { message, channel, ...options }, {}, signal),
  events: (job: string, lastEventId: string, signal?: AbortSignal) =>
    send("GET", `/api/chat/${job}/events`, undefined, lastEventId ? { "Last-Event-ID": lastEventId } : {}, signal),
  uploadFile,
  cancel: (job: string) => json<{ ok: boolean }>("POST", `/api/chat/${job}/cancel`),
  decide: (approvalId: string, approve: boolean) =>
    send("POST", `/api/approvals/${encodeURIComponent(approvalId)}`, { approve }),
  pendingApprovals: (channel: string) =>
    json<{ approvals: PendingApproval[] }>("GET", `/api/approvals${q({ channel })}`),

  conversations: (search: string, before?: number, channel?: string) =>
    json<{ conversations: ConversationSummary[]; has_more: boolean }>(
      "GET",
      `/api/conversations${q({ search, before, channel, limit: 30 })}`,
    ),
  conversation: (id: number) => json<ConversationDetail>("GET", `/api/conversations/${id}`),
  exportUrl: (id: number, format: "md" | "json") => `/api/conversations/${id}/export?format=${format}`,
  deleteConversation: (id: number) => json<{ ok: boolean }>("DELETE", `/api/conversations/${id}`),

  providers: () => json<{ providers: Provider[]; active_model: string }>("GET", "/api/providers"),
  setModel: (model: string) => json<{ ok: boolean; model: string }>("POST", "/api/model", { model }),
  keys: () => json<KeysView>("GET", "/api/keys"),
  saveKeys: (keys: Record<string, string>) => json<{ updated: string[] }>("POST", "/api/keys", keys),
  deleteKey: (name: string) => json<{ ok: boolean }>("DELETE", `/api/keys/${seg(name)}`),
  prompt: (name: string, revision = 0) => json<PromptView>("GET", `/api/prompt/${seg(name)}${q({ revision })}`),
  savePrompt: (name: string, content: string) => json<{ ok: boolean }>("POST", `/api/prompt/${seg(name)}`, { content }),
  memory: (search: string, offset: number, limit = 50) =>
    json<{ entries: MemoryEntry[]; total: number; has_more: boolean }>(
      "GET",
      `/api/memory${q({ search, offset, limit })}`,
    ),
  deleteMemory: (id: number) => json<{ ok: boolean }>("DELETE", `/api/memory/${id}`),
  deleteAllMemory: () => json<{ deleted: number }>("DELETE", "/api/memory"),
  plugins: () => json<{ plugins: PluginView[] }>("GET", "/api/plugins"),
  reloadPlugins: () => json<{ count: number; unconfirmed: string[] }>("POST", "/api/plugins/reload"),
  enablePlugin: (name: string, on: boolean) =>
    json<{ ok: boolean }>("POST", `/api/plugins/${on ? "enable" : "disable"}`, { name }),
  mcpServers: () => json<{ servers: McpServerView[] }>("GET", "/api/mcp/servers"),
  addMcpServer: (body: McpServerBody) => json<McpApplied>("POST", "/api/mcp/servers", body),
  deleteMcpServer: (name: string) =>
    json<{ deleted: string; unconfirmed: string[] }>("DELETE", `/api/mcp/servers/${seg(name)}`),
  enableMcpServer: (name: string, on: boolean) =>
    json<McpApplied>("POST", `/api/mcp/servers/${seg(name)}/${on ? "enable" : "disable"}`),
  config: () => json<{ model: string; settings: Record<string, unknown> }>("GET", "/api/config"),
  configSchema: () => json<JsonSchema>("GET", "/api/config/schema"),
  saveSettings: (patch: Record<string, unknown>) =>
    json<{ settings: Record<string, unknown> }>("POST", "/api/config/settings", patch),
  telegram: () => json<TelegramView>("GET", "/api/telegram/config"),
  saveTelegram: (body: Record<string, unknown>) =>
    json<{ polling_active: boolean }>("POST", "/api/telegram/config", body),
  status: () => json<StatusView>("GET", "/api/status"),
  claudeCli: () => json<ClaudeCliView>("GET", "/api/claude-cli/status"),
  claudeLogin: () => json<{ step: string; message: string }>("POST", "/api/claude-cli/login"),
  updateStatus: () => json<UpdateStatus>("GET", "/api/update-status"),
  checkUpdate: () => json<{ message: string }>("POST", "/api/update-trigger"),
};
