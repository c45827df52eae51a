import type { Part } from "../../turn";

type Tool = Extract<Part, { kind: "tool" }>;

function pretty(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** A tool call: its name and arguments, then its result, how long it took and whether it worked. */
export function ToolCard({ tool }: { tool: Tool }) {
  const status = tool.ok === undefined ? "running" : tool.ok ? "ok" : "failed";
  return (
    <section class={`card tool ${status}`} aria-label={`Tool call ${tool.name}`}>
      <header>
        <span class="tool-name">{tool.name}</span>
        <span class="badge">{status}</span>
        {tool.durationMs !== undefined && <span class="muted">{tool.durationMs} ms</span>}
      </header>
      <pre class="args">{pretty(tool.args)}</pre>
      {tool.percent !== undefined && tool.ok === undefined && (
        <progress max={100} value={tool.percent} aria-label={tool.label || "Progress"} />
      )}
      {tool.result !== undefined && (
        <details>
          <summary>Result</summary>
          <pre class="result">{tool.result}</pre>
        </details>
      )}
    </section>
  );
}
