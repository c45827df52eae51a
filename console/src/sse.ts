/**
 * A streaming parser for Server-Sent Events (the WHATWG event-stream format), fed text chunks
 * as they arrive from `fetch`: EventSource cannot POST, nor send Last-Event-ID on demand.
 * Lines end in CRLF, LF or CR (a CR at a chunk's end may be half of a CRLF); `:` lines are
 * comments (the server's keep-alive pings); an event is dispatched at a blank line.
 */

export interface SSEMessage {
  /** The `id` this event carried itself, if any (the api's own relay errors carry none). */
  id?: string;
  /** `event:` field, `message` when absent. */
  event: string;
  /** `data:` lines joined by "\n". */
  data: string;
}

export class SSEParser {
  /** The last event id seen (WHATWG's "last event ID buffer"): what Last-Event-ID sends. */
  lastEventId = "";
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;

  /** Feed the next chunk of text; returns the events it completes, in order. */
  feed(chunk: string): SSEMessage[] {
    this.buffer += chunk;
    const out: SSEMessage[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        if (cr === this.buffer.length - 1) break; // maybe CRLF split across chunks: wait
        end = cr;
        next = this.buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      const message = this.line(this.buffer.slice(start, end));
      if (message) out.push(message);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The stream ended: a CR held back (it might have begun a CRLF) ends its line after all;
   * an event without its closing blank line is dropped, as the spec says. */
  end(): SSEMessage[] {
    const last = this.buffer.endsWith("\r") ? this.feed("\n") : [];
    this.buffer = "";
    this.reset();
    return last;
  }

  private line(line: string): SSEMessage | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) {
      this.id = value;
      this.lastEventId = value;
    }
    return undefined; // `retry` and unknown fields are ignored
  }

  private dispatch(): SSEMessage | undefined {
    const message: SSEMessage | undefined =
      this.data.length === 0
        ? undefined
        : { event: this.event || "message", data: this.data.join("\n"), ...(this.id !== undefined ? { id: this.id } : {}) };
    this.reset();
    return message;
  }

  private reset(): void {
    this.data = [];
    this.event = "";
    this.id = undefined;
  }
}
