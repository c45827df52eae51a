/** MCP servers: each with its transport, whether it is connected (or why not) and its tools;
 * switched on or off, deleted, or added over HTTP or as a stdio command. */

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type McpServerView } from "../../api";
import { onNotice } from "../../notices";
import { ConfirmButton } from "../../ui/Confirm";
import { Pairs } from "../../ui/Pairs";
import { Status } from "../../ui/Status";
import { ToolsTable } from "../../ui/ToolsTable";
import { useAction } from "../../ui/useAction";
import { useLoad } from "../../ui/useLoad";
import { appliedNote, emptyDraft, fieldErrorsOf, serverBody, whereOf, type McpDraft, type Transport } from "./mcpForm";

export function Mcp() {
  const { data, error, reload } = useLoad(() => api.mcpServers());
  const { note, failed, working, act } = useAction(reload);
  // A server that fails on its own shows its new state without a click.
  useEffect(() => onNotice((n) => n.type === "mcp_server_failed" && reload()), [reload]);

  return (
    <>
      <p class="muted">
        Model Context Protocol servers lend AION their tools, offered to the model as <code>mcp__server__tool</code>.
      </p>
      <div class="actions">
        <button type="button" aria-disabled={working} onClick={() => working || act(async () => "List refreshed.")}>
          Refresh list
        </button>
      </div>
      <Status error={error ?? failed} note={note} />
      {!data && !error && <p class="muted">Loading…</p>}
      {data?.servers.length === 0 && <p>No MCP servers yet: add one below.</p>}
      {data?.servers.map((server) => (
        <Server key={server.name} server={server} working={working} act={act} />
      ))}
      <AddServer onAdded={reload} />
    </>
  );
}

function Server({
  server: s,
  working,
  act,
}: {
  server: McpServerView;
  working: boolean;
  act: (action: () => Promise<string>) => Promise<boolean>;
}) {
  const secrets = s.transport === "http" ? s.headers : s.env;
  const secretNames = Object.entries(secrets ?? {});
  return (
    <section class="card" aria-label={`MCP server ${s.name}`}>
      <header>
        <span class="tool-name">{s.name}</span>
        <span class="badge">{s.transport === "http" ? "HTTP" : "stdio"}</span>
        <span class={`badge state-${s.status}`}>{s.status}</span>
      </header>
      <dl class="facts">
        <dt>{s.transport === "http" ? "URL" : "Command"}</dt>
        <dd class="mono">{whereOf(s)}</dd>
        <dt>{s.transport === "http" ? "Headers" : "Environment"}</dt>
        <dd class="mono">{secretNames.length ? secretNames.map(([k, v]) => `${k}: ${v}`).join(", ") : "none"}</dd>
        <dt>Calls</dt>
        <dd>{s.risk === "allow" ? "run without asking" : "ask before each call"}</dd>
      </dl>
      {s.error && (
        <p class="error">
          <strong>Not connected:</strong> {s.error}
        </p>
      )}
      {s.tools.length > 0 && (
        <details>
          <summary>
            {s.tools.length} {s.tools.length === 1 ? "tool" : "tools"}
          </summary>
          <ToolsTable owner={s.name} tools={s.tools} />
        </details>
      )}
      <div class="actions">
        {/* aria-disabled, not disabled, while an action runs: the button keeps the focus. */}
        <button
          type="button"
          aria-disabled={working}
          onClick={() =>
            working ||
            act(async () => appliedNote(await api.enableMcpServer(s.name, !s.enabled), s.enabled ? "disabled" : "enabled"))
          }
        >
          {s.enabled ? `Disable ${s.name}` : `Enable ${s.name}`}
        </button>
        <ConfirmButton
          label={`Delete ${s.name}`}
          question={`Delete the MCP server ${s.name}? Its tools go from every worker.`}
          confirmLabel="Delete server"
          onConfirm={() => act(async () => (await api.deleteMcpServer(s.name), `${s.name} deleted.`))}
        />
      </div>
    </section>
  );
}

const NAME_HINT = "Lowercase letters, digits, - and _, starting with a letter; at most 32 characters.";

function AddServer({ onAdded }: { onAdded: () => unknown }) {
  const [draft, setDraft] = useState<McpDraft>(emptyDraft());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { note, failed, working, act, setFailed, setNote } = useAction(onAdded);
  const edit = (change: Partial<McpDraft>) => setDraft({ ...draft, ...change });

  const submit = async (event: Event) => {
    event.preventDefault();
    if (working) return;
    const built = serverBody(draft);
    if ("problem" in built) {
      setErrors({ [built.field]: built.problem });
      setNote(null);
      setFailed(`Not added: ${built.problem}`);
      return;
    }
    setErrors({});
    await act(async () => {
      try {
        const applied = await api.addMcpServer(built.body);
        setDraft(emptyDraft(draft.transport));
        return appliedNote(applied, "added");
      } catch (e) {
        if (e instanceof ApiError && e.status === 422) setErrors(fieldErrorsOf(e.detail, draft.transport));
        if (e instanceof ApiError) throw new Error(`Not added: ${e.detail}`);
        throw e;
      }
    });
  };

  /** Props of a field's input: its id, and its hint and error read with it. */
  const field = (name: string, hint?: boolean) => ({
    id: `mcp-${name}`,
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": [hint ? `mcp-${name}-hint` : "", errors[name] ? `mcp-${name}-error` : ""].filter(Boolean).join(" ") || undefined,
  });
  const fieldError = (name: string) =>
    errors[name] && (
      <p class="error" id={`mcp-${name}-error`}>
        {errors[name]}
      </p>
    );
  const choice = (group: string, value: string, checked: boolean, label: string, onPick: () => void) => (
    <label class="check">
      <input type="radio" name={group} value={value} checked={checked} onChange={onPick} />
      <span>{label}</span>
    </label>
  );
  const pickTransport = (transport: Transport) => {
    setErrors({}); // the other transport's fields: what was said of these no longer applies
    setFailed(null);
    edit({ transport });
  };

  return (
    <section aria-labelledby="mcp-add">
      <h3 id="mcp-add">Add a server</h3>
      <form class="settings-form" noValidate onSubmit={submit}>
        <fieldset class="choices">
          <legend>Transport</legend>
          {choice("mcp-transport", "http", draft.transport === "http", "HTTP (streamable HTTP: a server of its own)", () => pickTransport("http"))}
          {choice("mcp-transport", "stdio", draft.transport === "stdio", "stdio (a command AION starts in its sandbox)", () => pickTransport("stdio"))}
        </fieldset>
        <div class="field">
          <label for="mcp-name">Name</label>
          <input
            {...field("name", true)}
            autocomplete="off"
            spellcheck={false}
            value={draft.name}
            onInput={(e) => edit({ name: (e.target as HTMLInputElement).value })}
          />
          <p class="muted" id="mcp-name-hint">
            {NAME_HINT}
          </p>
          {fieldError("name")}
        </div>
        {draft.transport === "http" ? (
          <>
            <div class="field">
              <label for="mcp-url">URL</label>
              <input
                {...field("url")}
                type="url"
                autocomplete="off"
                placeholder="http://github-mcp:8080/mcp"
                value={draft.url}
                onInput={(e) => edit({ url: (e.target as HTMLInputElement).value })}
              />
              {fieldError("url")}
            </div>
            <Pairs
              id="mcp-headers"
              legend="Headers"
              what="Header"
              hint="Sent with every request, e.g. Authorization. Stored encrypted, shown masked."
              pairs={draft.headers}
              onChange={(headers) => edit({ headers })}
              error={errors.headers}
            />
          </>
        ) : (
          <>
            <div class="field">
              <label for="mcp-command">Command</label>
              <input
                {...field("command")}
                autocomplete="off"
                spellcheck={false}
                placeholder="npx"
                value={draft.command}
                onInput={(e) => edit({ command: (e.target as HTMLInputElement).value })}
              />
              {fieldError("command")}
            </div>
            <div class="field">
              <label for="mcp-args">Arguments (one per line)</label>
              <textarea
                {...field("args")}
                rows={3}
                spellcheck={false}
                value={draft.args}
                onInput={(e) => edit({ args: (e.target as HTMLTextAreaElement).value })}
              />
              {fieldError("args")}
            </div>
            <Pairs
              id="mcp-env"
              legend="Environment"
              what="Variable"
              hint="Set for the command only. Stored encrypted, shown masked."
              pairs={draft.env}
              onChange={(env) => edit({ env })}
              error={errors.env}
            />
          </>
        )}
        <fieldset class="choices" aria-describedby={errors.risk ? "mcp-risk-error" : undefined}>
          <legend>Its tools</legend>
          {choice("mcp-risk", "ask", draft.risk === "ask", "Ask me before each call", () => edit({ risk: "ask" }))}
          {choice("mcp-risk", "allow", draft.risk === "allow", "Run them without asking", () => edit({ risk: "allow" }))}
          {fieldError("risk")}
        </fieldset>
        <Status error={failed} note={note} />
        <button type="submit" class="primary" aria-disabled={working}>
          {working ? "Adding…" : "Add server"}
        </button>
      </form>
    </section>
  );
}
