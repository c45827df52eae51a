import { describe, expect, it } from "vitest";
import type { McpApplied } from "../../api";
import { newPair } from "../../ui/pairs";
import { appliedNote, argsOf, emptyDraft, fieldErrorsOf, serverBody, whereOf } from "./mcpForm";

const row = (name: string, value: string) => ({ ...newPair(), name, value });

describe("serverBody", () => {
  it("builds an HTTP server's body, with headers only when some are given", () => {
    const draft = { ...emptyDraft("http"), name: " github ", url: " http://mcp:8080/mcp ", risk: "allow" as const };
    expect(serverBody(draft)).toEqual({ body: { name: "github", transport: "http", url: "http://mcp:8080/mcp", risk: "allow" } });
    const withHeader = { ...draft, headers: [row("Authorization", "Bearer t")] };
    expect(serverBody(withHeader)).toEqual({
      body: { name: "github", transport: "http", url: "http://mcp:8080/mcp", risk: "allow", headers: { Authorization: "Bearer t" } },
    });
  });

  it("builds a stdio server's body: arguments one per line, env from the rows; no HTTP fields", () => {
    const draft = {
      ...emptyDraft("stdio"),
      name: "files",
      url: "http://left-over",
      headers: [row("A", "b")],
      command: "python3",
      args: "server.py\n\n  --root /data dir \n",
      env: [row("TOKEN", "s3cret")],
    };
    expect(serverBody(draft)).toEqual({
      body: { name: "files", transport: "stdio", command: "python3", risk: "ask", args: ["server.py", "--root /data dir"], env: { TOKEN: "s3cret" } },
    });
  });

  it("leaves the name's rules to the api: a bad name is sent as typed", () => {
    const built = serverBody({ ...emptyDraft(), name: "Bad Name", url: "http://x" });
    expect(built).toMatchObject({ body: { name: "Bad Name" } });
  });

  it("names the rows' own problems and their field", () => {
    expect(serverBody({ ...emptyDraft("http"), headers: [row("", "v")] })).toEqual({
      problem: "Header 1 has a value but no name.",
      field: "headers",
    });
    expect(serverBody({ ...emptyDraft("stdio"), env: [row("X", "1"), row("X", "2")] })).toEqual({
      problem: "Variable X is given twice.",
      field: "env",
    });
  });
});

describe("argsOf", () => {
  it("keeps non-blank lines, trimmed, in order", () => {
    expect(argsOf(" -y \r\n\n@scope/server\n")).toEqual(["-y", "@scope/server"]);
    expect(argsOf("")).toEqual([]);
  });
});

describe("fieldErrorsOf", () => {
  it("puts the api's errors, named under the transport, on the form's fields", () => {
    const detail = "http.url: String should match pattern '^https?://[^\\s]+$'; http.headers: Value error, 'A B' is not an HTTP header name";
    expect(fieldErrorsOf(detail, "http")).toEqual({
      url: "url: String should match pattern '^https?://[^\\s]+$'",
      headers: "headers: Value error, 'A B' is not an HTTP header name",
    });
    expect(fieldErrorsOf("stdio.name: String should match pattern", "stdio")).toEqual({
      name: "name: String should match pattern",
    });
  });

  it("ignores what names no field of the form", () => {
    expect(fieldErrorsOf("body: Field required", "http")).toEqual({});
  });
});

describe("appliedNote", () => {
  const applied = (over: Partial<McpApplied>): McpApplied => ({
    name: "gh",
    status: "connected",
    error: null,
    tools: [],
    unconfirmed: [],
    ...over,
  });
  const tool = { name: "mcp__gh__x", description: "", risk: "ask" };

  it("says how many tools a connected server offers", () => {
    expect(appliedNote(applied({ tools: [tool, tool] }), "added")).toBe("gh added: connected, 2 tools.");
    expect(appliedNote(applied({ tools: [tool] }), "enabled")).toBe("gh enabled: connected, 1 tool.");
  });

  it("says why a server is not connected, and when no worker answered", () => {
    expect(appliedNote(applied({ status: "error", error: "refused" }), "added")).toBe("gh added, but not connected: refused");
    expect(appliedNote(applied({ status: null }), "enabled")).toBe("gh enabled; no worker has reported on it yet.");
  });

  it("says a disabled server's tools are gone, and names workers that did not confirm", () => {
    expect(appliedNote(applied({ status: "disabled", unconfirmed: ["w1", "w2"] }), "disabled")).toBe(
      "gh disabled; its tools are no longer offered. Not confirmed by w1, w2.",
    );
  });
});

describe("whereOf", () => {
  it("is the URL of an HTTP server and the command line of a stdio one", () => {
    expect(whereOf({ transport: "http", url: "http://x/mcp" })).toBe("http://x/mcp");
    expect(whereOf({ transport: "stdio", command: "npx", args: ["-y", "srv"] })).toBe("npx -y srv");
  });
});
