/** Plugins: what is loaded, what failed and why, their tools and risk; enable, disable, reload. */

import { api } from "../../api";
import { Status } from "../../ui/Status";
import { ToolsTable } from "../../ui/ToolsTable";
import { useAction } from "../../ui/useAction";
import { useLoad } from "../../ui/useLoad";

export function Plugins() {
  const { data, error, reload } = useLoad(() => api.plugins());
  const { note, failed, working, act } = useAction(reload);

  return (
    <>
      <button
        type="button"
        disabled={working}
        onClick={() =>
          act(async () => {
            const r = await api.reloadPlugins();
            return `Reloaded: ${r.count} tools${r.unconfirmed.length ? ` (not confirmed by ${r.unconfirmed.join(", ")})` : ""}.`;
          })
        }
      >
        Reload plugins
      </button>
      <Status error={error ?? failed} note={note} />
      {data?.plugins.map((p) => (
        <section key={p.name} class="card" aria-label={`Plugin ${p.name}`}>
          <header>
            <span class="tool-name">{p.name}</span>
            <span class="muted">{p.version}</span>
            <span class="badge">{p.error ? "error" : p.loaded ? "loaded" : p.enabled ? "not loaded" : "disabled"}</span>
          </header>
          <p>{p.description}</p>
          {p.error && (
            <p class="error">
              <strong>Failed to load:</strong> {p.error}
            </p>
          )}
          {p.tools.length > 0 && (
            <ToolsTable owner={p.name} tools={p.tools} />
          )}
          <button
            type="button"
            disabled={working}
            onClick={() =>
              act(async () => (await api.enablePlugin(p.name, !p.enabled), `${p.name} ${p.enabled ? "disabled" : "enabled"}.`))
            }
          >
            {p.enabled ? `Disable ${p.name}` : `Enable ${p.name}`}
          </button>
        </section>
      ))}
    </>
  );
}
