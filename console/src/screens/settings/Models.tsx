/** The active model and the fallbacks tried in order when it fails. */

import { useState } from "preact/hooks";
import { api } from "../../api";
import { Status } from "../../ui/Status";
import { useAction } from "../../ui/useAction";
import { useLoad } from "../../ui/useLoad";

export function Models() {
  const { data, error, reload } = useLoad(() => Promise.all([api.providers(), api.config()]));
  const [model, setModel] = useState("");
  const [fallbacks, setFallbacks] = useState<string | null>(null);
  const { note, failed, act: run } = useAction(reload);
  if (!data) return <Status error={error} />;
  const [providers, config] = data;
  const known = providers.providers.flatMap((p) => p.models.map((m) => ({ model: m, provider: p })));
  const currentFallbacks = (config.settings.model_fallback as string[]).join("\n");

  return (
    <>
      <p>
        Active model: <strong>{providers.active_model}</strong>
      </p>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const chosen = model.trim();
          if (chosen) run(async () => `Active model is now ${(await api.setModel(chosen)).model}.`);
        }}
      >
        <label for="active-model">Active model</label>
        <input
          id="active-model"
          list="known-models"
          placeholder={providers.active_model}
          value={model}
          onInput={(e) => setModel((e.target as HTMLInputElement).value)}
        />
        <datalist id="known-models">
          {known.map(({ model: m, provider }) => (
            <option key={m} value={m}>
              {provider.label}
            </option>
          ))}
        </datalist>
        <button type="submit" class="primary">
          Use this model
        </button>
      </form>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const list = (fallbacks ?? currentFallbacks).split("\n").map((s) => s.trim()).filter(Boolean);
          run(async () => {
            await api.saveSettings({ model_fallback: list });
            setFallbacks(null);
            return list.length ? `Fallbacks: ${list.join(", ")}.` : "No fallbacks.";
          });
        }}
      >
        <label for="fallbacks">Fallback models (one per line, tried in order)</label>
        <textarea
          id="fallbacks"
          rows={3}
          value={fallbacks ?? currentFallbacks}
          onInput={(e) => setFallbacks((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit">Save fallbacks</button>
      </form>
      <Status error={failed} note={note} />
      <h3>Providers</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Key</th>
            <th scope="col">Models</th>
          </tr>
        </thead>
        <tbody>
          {providers.providers.map((p) => (
            <tr key={p.id}>
              <td>{p.label}</td>
              <td>{p.configured ? "configured" : p.env_keys.join(", ") || "—"}</td>
              <td>{p.models.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
