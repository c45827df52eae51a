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

export const api = {
  signIn: (token: string) => send("POST", "/api/session", { token }),
  signOut: () => send("DELETE", "/api/session"),
  channels: () => json<{ channels: Channel[] }>("GET", "/api/channels"),
  history: (channel: string) =>
    json<{ messages: StoredMessage[] }>("GET", `/api/history?channel=${encodeURIComponent(channel)}&limit=200`),
  chat: (message: string, channel: string, signal?: AbortSignal) =>
    send("POST", "/api/chat", { message, channel }, {}, signal),
  events: (job: string, lastEventId: string, signal?: AbortSignal) =>
    send("GET", `/api/chat/${job}/events`, undefined, lastEventId ? { "Last-Event-ID": lastEventId } : {}, signal),
  cancel: (job: string) => json<{ ok: boolean }>("POST", `/api/chat/${job}/cancel`),
  decide: (approvalId: string, approve: boolean) =>
    send("POST", `/api/approvals/${encodeURIComponent(approvalId)}`, { approve }),
};
