/** The settings: one panel per concern, each on the public API only, picked from a list. */

import type { FunctionComponent } from "preact";
import { Link } from "../../ui/Link";
import { ConfigForm } from "./ConfigForm";
import { Keys } from "./Keys";
import { Mcp } from "./Mcp";
import { Memory } from "./Memory";
import { Models } from "./Models";
import { Plugins } from "./Plugins";
import { Prompts } from "./Prompts";
import { System } from "./System";
import { Telegram } from "./Telegram";

const PANELS: { id: string; label: string; view: FunctionComponent }[] = [
  { id: "model", label: "Model", view: Models },
  { id: "keys", label: "Keys", view: Keys },
  { id: "prompts", label: "Prompts", view: Prompts },
  { id: "memory", label: "Memory", view: Memory },
  { id: "plugins", label: "Plugins", view: Plugins },
  { id: "mcp", label: "MCP servers", view: Mcp },
  { id: "config", label: "Settings", view: ConfigForm },
  { id: "telegram", label: "Telegram", view: Telegram },
  { id: "system", label: "System", view: System },
];

export function Settings({ panel }: { panel: string }) {
  const shown = PANELS.find((p) => p.id === panel);
  const View = shown?.view;
  return (
    <div class="split">
      <nav class="channels panels" aria-label="Settings panels">
        <ul>
          {PANELS.map((p) => (
            <li key={p.id}>
              <Link href={`/settings/${p.id}`} current={p.id === panel}>
                {p.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main class="page panel" aria-labelledby="panel-title">
        <h2 id="panel-title">{shown?.label ?? "Not found"}</h2>
        {View ? <View /> : <p>No settings panel “{panel}”.</p>}
      </main>
    </div>
  );
}
