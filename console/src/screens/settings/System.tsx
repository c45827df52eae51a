/** How the installation is doing: services, workers, the Claude CLI, updates. */

import { api } from "../../api";
import { Status } from "../../ui/Status";
import { useAction } from "../../ui/useAction";
import { useLoad } from "../../ui/useLoad";
import { when } from "../history/History";

function uptime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}

export function System() {
  const status = useLoad(() => api.status());
  const claude = useLoad(() => api.claudeCli());
  const update = useLoad(() => api.updateStatus());
  const { note, failed, act } = useAction();

  const s = status.data;
  const c = claude.data;
  const u = update.data;
  return (
    <>
      <section aria-labelledby="sys-services">
        <h3 id="sys-services">Services</h3>
        <Status error={status.error} />
        {s && (
          <dl class="facts">
            <dt>Status</dt>
            <dd>{s.status}</dd>
            <dt>Version</dt>
            <dd>{s.version}</dd>
            <dt>Model</dt>
            <dd>{s.model}</dd>
            <dt>Up for</dt>
            <dd>{uptime(s.uptime)}</dd>
            <dt>Workers</dt>
            <dd>{s.services.workers}</dd>
            <dt>PostgreSQL</dt>
            <dd>{s.services.postgres}</dd>
            <dt>Redis</dt>
            <dd>{s.services.redis}</dd>
            <dt>Memories</dt>
            <dd>{s.memory_entries}</dd>
          </dl>
        )}
        <button type="button" onClick={() => status.reload()}>
          Refresh status
        </button>
      </section>
      <section aria-labelledby="sys-claude">
        <h3 id="sys-claude">Claude CLI</h3>
        <Status error={claude.error} />
        {c && (
          <p>
            {c.installed ? `Installed${c.version ? ` (${c.version})` : ""}` : "Not installed"} ·{" "}
            {c.authenticated ? "signed in" : "not signed in"}
          </p>
        )}
        {c?.installed && !c.authenticated && (
          <button type="button" onClick={() => act(async () => (await api.claudeLogin()).message)}>
            Sign the Claude CLI in
          </button>
        )}
      </section>
      <section aria-labelledby="sys-update">
        <h3 id="sys-update">Updates</h3>
        <Status error={update.error} />
        {u && (
          <p>
            Running {u.current_version}
            {u.latest_version ? `; latest ${u.latest_version}` : ""}
            {u.update_available ? " — an update is available." : "."}
            {u.last_checked ? ` Checked ${when(u.last_checked)}.` : " Not checked yet."}
            {u.error ? ` Last check failed: ${u.error}` : ""}
          </p>
        )}
        <button type="button" onClick={() => act(async () => (await api.checkUpdate()).message)}>
          Check for updates
        </button>
      </section>
      <Status error={failed} note={note} />
    </>
  );
}
