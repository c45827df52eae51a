/** Every setting, as a form generated from GET /api/config/schema; the server validates, and a
 * 422 is shown next to the field it names. */

import { useState } from "preact/hooks";
import { api, ApiError, type JsonSchema } from "../../api";
import { Status } from "../../ui/Status";
import { messageOf, useLoad } from "../../ui/useLoad";
import { fieldErrors } from "../../fields";

type Kind = "boolean" | "enum" | "number" | "text" | "list" | "map";

function kindOf(s: JsonSchema): Kind {
  if (s.type === "boolean") return "boolean";
  if (s.enum) return "enum";
  if (s.type === "integer" || s.type === "number") return "number";
  if (s.type === "array") return "list";
  if (s.type === "object") return "map";
  return "text";
}

/** The value as the form edits it: text for everything but booleans. */
function toText(kind: Kind, value: unknown): string | boolean {
  if (kind === "boolean") return Boolean(value);
  if (kind === "list") return ((value as unknown[]) ?? []).join("\n");
  if (kind === "map")
    return Object.entries((value as Record<string, unknown>) ?? {})
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n");
  return value === undefined || value === null ? "" : String(value);
}

/** The form's text back to JSON; what does not parse is sent as typed, for the server to name. */
function fromText(kind: Kind, text: string | boolean): unknown {
  if (kind === "boolean") return text;
  const value = String(text);
  if (kind === "number") return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (kind === "list") return value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (kind === "map") {
    const map: Record<string, string> = {};
    for (const line of value.split("\n")) {
      if (!line.trim()) continue;
      const at = line.indexOf("=");
      if (at < 0) return value; // the server says what is wrong with it
      map[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return map;
  }
  return value;
}

function hint(kind: Kind, s: JsonSchema): string {
  const bits: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) bits.push(`${s.minimum ?? "…"} to ${s.maximum ?? "…"}`);
  if (kind === "list") bits.push("one per line");
  if (kind === "map") {
    const keys = s.propertyNames?.enum ? ` (${s.propertyNames.enum.join(", ")})` : "";
    const values = typeof s.additionalProperties === "object" && s.additionalProperties.enum;
    bits.push(`one "name = value" per line${keys}${values ? `; values: ${values.join(", ")}` : ""}`);
  }
  if (s.default !== undefined && kind !== "boolean") bits.push(`default ${JSON.stringify(s.default)}`);
  return bits.join(" · ");
}

export function ConfigForm() {
  const { data, error, reload } = useLoad(() => Promise.all([api.configSchema(), api.config()]));
  const [edits, setEdits] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  if (!data) return <Status error={error} />;
  const [schema, config] = data;
  const properties = Object.entries(schema.properties ?? {});

  const save = async (event: Event) => {
    event.preventDefault();
    const patch: Record<string, unknown> = {};
    for (const [name, text] of Object.entries(edits)) {
      patch[name] = fromText(kindOf(schema.properties![name]), text);
    }
    if (Object.keys(patch).length === 0) return setNote("Nothing changed.");
    try {
      await api.saveSettings(patch);
      setEdits({});
      setErrors({});
      setFailed(null);
      setNote("Saved; every worker uses it from the next turn on.");
      await reload();
    } catch (e) {
      setNote(null);
      if (e instanceof ApiError && e.status === 422) {
        const found = fieldErrors(e.detail, Object.keys(schema.properties ?? {}));
        setErrors(found);
        setFailed(Object.keys(found).length ? "Not saved: see the fields marked below." : e.detail);
      } else setFailed(messageOf(e));
    }
  };

  return (
    <form class="settings-form" noValidate onSubmit={save}>
      {properties.map(([name, s]) => {
        const kind = kindOf(s);
        const id = `setting-${name}`;
        const value = name in edits ? edits[name] : toText(kind, config.settings[name]);
        const set = (v: string | boolean) => setEdits({ ...edits, [name]: v });
        const described = [errors[name] ? `${id}-error` : "", `${id}-hint`].filter(Boolean).join(" ");
        const common = { id, "aria-invalid": errors[name] ? true : undefined, "aria-describedby": described };
        const label = s.title ?? name;
        return (
          <div class="field" key={name}>
            {kind === "boolean" ? (
              <label class="check">
                <input {...common} type="checkbox" checked={Boolean(value)} onChange={(e) => set((e.target as HTMLInputElement).checked)} />
                <span>{label}</span>
              </label>
            ) : (
              <label for={id}>{label}</label>
            )}
            {kind === "enum" && (
              <select {...common} value={String(value)} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
                {s.enum!.map((option) => (
                  <option key={String(option)} value={String(option)}>
                    {String(option)}
                  </option>
                ))}
              </select>
            )}
            {(kind === "number" || kind === "text") && (
              <input
                {...common}
                type="text"
                inputMode={kind === "number" ? "numeric" : undefined}
                value={String(value)}
                onInput={(e) => set((e.target as HTMLInputElement).value)}
              />
            )}
            {(kind === "list" || kind === "map") && (
              <textarea {...common} rows={3} value={String(value)} onInput={(e) => set((e.target as HTMLTextAreaElement).value)} />
            )}
            <p class="muted" id={`${id}-hint`}>
              <code>{name}</code>
              {hint(kind, s) && ` · ${hint(kind, s)}`}
            </p>
            {errors[name] && (
              <p class="error" id={`${id}-error`}>
                {errors[name]}
              </p>
            )}
          </div>
        );
      })}
      <Status error={failed} note={note} />
      <button type="submit" class="primary">
        Save settings
      </button>
    </form>
  );
}
