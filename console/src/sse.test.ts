import { describe, expect, it } from "vitest";
import { SSEParser, type SSEMessage } from "./sse";

function feedAll(chunks: string[]): SSEMessage[] {
  const parser = new SSEParser();
  return chunks.flatMap((chunk) => parser.feed(chunk));
}

const STREAM = 'id: 1-0\nevent: token\ndata: {"text":"Hel"}\n\nid: 1-1\nevent: token\ndata: {"text":"lo"}\n\n';
const EXPECTED: SSEMessage[] = [
  { id: "1-0", event: "token", data: '{"text":"Hel"}' },
  { id: "1-1", event: "token", data: '{"text":"lo"}' },
];

describe("SSEParser", () => {
  it("parses whole events", () => {
    expect(feedAll([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same events however the stream is split into chunks", () => {
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(feedAll(chunks)).toEqual(EXPECTED);
    }
  });

  it("accepts CRLF and CR line ends, even a CRLF split between chunks", () => {
    const crlf = STREAM.replaceAll("\n", "\r\n");
    expect(feedAll([crlf])).toEqual(EXPECTED);
    expect(feedAll(crlf.split(/(?<=\r)/))).toEqual(EXPECTED); // every chunk ends in \r
    const cr = new SSEParser();
    const events = cr.feed(STREAM.replaceAll("\n", "\r"));
    expect([...events, ...cr.end()]).toEqual(EXPECTED); // the last CR: a line end once it ends
  });

  it("skips comments such as the keep-alive ping", () => {
    expect(feedAll([": ping\n\n", STREAM, ":\n"])).toEqual(EXPECTED);
  });

  it("joins data lines, defaults the event name and strips one leading space", () => {
    expect(feedAll(["data:a\ndata:  b\n\n"])).toEqual([{ event: "message", data: "a\n b" }]);
  });

  it("keeps the last id for Last-Event-ID, and marks only events that carried one", () => {
    const parser = new SSEParser();
    const events = parser.feed('id: 5-0\nevent: token\ndata: x\n\nevent: error\ndata: {"code":"interrupted"}\n\n');
    expect(events[0].id).toBe("5-0");
    expect(events[1].id).toBeUndefined();
    expect(parser.lastEventId).toBe("5-0");
  });

  it("dispatches nothing for an event without data or without its blank line", () => {
    const parser = new SSEParser();
    expect(parser.feed("id: 9-0\n\nevent: token\ndata: half")).toEqual([]);
    expect(parser.lastEventId).toBe("9-0");
    parser.end();
    expect(parser.feed("data: next\n\n")).toEqual([{ event: "message", data: "next" }]);
  });
});
