/** Provider keys: shown masked only, added (stored sealed by the api), deleted. */

import { useState } from "preact/hooks";
import { api, type KeyState } from "../../api";
import { ConfirmButton } from "../../ui/Confirm";
import { Status } from "../../ui/Status";
import { useAction } from "../../ui/useAction";
import { useLoad } from "../../ui/useLoad";

export function Keys() {
  const { data, error, reload } = useLoad(() => api.keys());
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const { note, failed, act } = useAction(reload);

  const rows: { group: string; key: KeyState }[] = [
    ...(data?.providers ?? []).flatMap((p) => p.env_keys.map((key) => ({ group: p.label, key }))),
    ...(data?.other_keys ?? []).map((key) => ({ group: "Other", key })),
  ];

  return (
    <>
      <Status error={error} />
      <table aria-label="Keys">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">For</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ group, key }) => (
            <tr key={key.key}>
              <td class="mono">{key.key}</td>
              <td>{group}</td>
              <td class="mono">{key.set ? `${key.masked} (${key.source})` : "not set"}</td>
              <td>
                {key.source === "vault" && (
                  <ConfirmButton
                    label={`Delete ${key.key}`}
                    question={`Delete ${key.key}?`}
                    confirmLabel="Delete key"
                    onConfirm={() => act(async () => (await api.deleteKey(key.key), `${key.key} deleted.`))}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Add or replace a key</h3>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const keyName = name.trim();
          act(async () => {
            await api.saveKeys({ [keyName]: value });
            setName("");
            setValue("");
            return `${keyName} saved.`;
          });
        }}
      >
        <label for="key-name">Key name</label>
        <input
          id="key-name"
          list="key-names"
          placeholder="OPENAI_API_KEY"
          autocomplete="off"
          required
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value.toUpperCase())}
        />
        <datalist id="key-names">
          {rows.map(({ key }) => (
            <option key={key.key} value={key.key} />
          ))}
        </datalist>
        <label for="key-value">Key value</label>
        <input
          id="key-value"
          type="password"
          autocomplete="off"
          required
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary">
          Save key
        </button>
      </form>
      <Status error={failed} note={note} />
    </>
  );
}
