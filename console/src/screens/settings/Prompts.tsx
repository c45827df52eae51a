/** The owner's prompts (rules, character, self): edit, and the kept revisions viewed, compared
 * with the one in use, restored. */

import { diffLines } from "diff";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type PromptView } from "../../api";
import { Status } from "../../ui/Status";
import { messageOf } from "../../ui/useLoad";
import { when } from "../history/History";

const NAMES = [
  { id: "rules", label: "Rules" },
  { id: "character", label: "Character" },
  { id: "self", label: "Self" },
];
const KEEP_REVISIONS = 20;

/** Every kept save of a prompt, newest first (0 is the one in use). */
async function revisions(name: string): Promise<PromptView[]> {
  const all: PromptView[] = [];
  for (let back = 0; back < KEEP_REVISIONS; back++) {
    try {
      all.push(await api.prompt(name, back));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && back > 0) break;
      throw e;
    }
  }
  return all;
}

function Diff({ from, to }: { from: string; to: string }) {
  const parts = diffLines(from, to);
  return (
    <pre class="diff" aria-label="Changes from this revision to the one in use">
      {parts.map((part, index) => {
        const mark = part.added ? "+ " : part.removed ? "- " : "  ";
        const lines = part.value.replace(/\n$/, "").split("\n");
        return (
          <span key={index} class={part.added ? "added" : part.removed ? "removed" : undefined}>
            {lines.map((line) => `${mark}${line}\n`).join("")}
          </span>
        );
      })}
    </pre>
  );
}

export function Prompts() {
  const [name, setName] = useState("rules");
  const [saved, setSaved] = useState<PromptView[]>([]);
  const [draft, setDraft] = useState("");
  const [viewing, setViewing] = useState<number | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);

  const [ready, setReady] = useState(false); // the editor waits for what it edits

  // Loads may overlap (a tab picked while the last one loads): only the newest fills the editor.
  const latest = useRef(0);
  const load = async (keepNote = false) => {
    const ticket = ++latest.current;
    setReady(false);
    try {
      const all = await revisions(name);
      if (ticket !== latest.current) return;
      setSaved(all);
      setDraft(all[0]?.content ?? "");
      setViewing(null);
      setFailed(null);
      if (!keepNote) setNote(null);
      setReady(true);
    } catch (e) {
      if (ticket === latest.current) setFailed(messageOf(e));
    }
  };
  useEffect(() => {
    load();
  }, [name]);

  const save = async (content: string, what: string) => {
    try {
      await api.savePrompt(name, content);
      setNote(what);
      await load(true);
    } catch (e) {
      setFailed(messageOf(e));
    }
  };

  const current = saved[0];
  const shown = viewing !== null ? saved[viewing] : undefined;
  return (
    <>
      <div role="tablist" aria-label="Prompt" class="tabs">
        {NAMES.map((n) => (
          <button
            key={n.id}
            type="button"
            role="tab"
            aria-selected={n.id === name}
            onClick={() => {
              if (n.id === name) return;
              setReady(false); // nothing typed before the picked prompt is in is lost to it
              setName(n.id);
            }}
          >
            {n.label}
          </button>
        ))}
      </div>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          save(draft, "Saved; used from the next turn on.");
        }}
      >
        <label for="prompt-text">{NAMES.find((n) => n.id === name)?.label} prompt</label>
        <textarea id="prompt-text" rows={12} disabled={!ready} value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
        <p class="muted">{current?.updated_at ? `Saved ${when(current.updated_at)}` : "AION's default (never saved)"}</p>
        <button type="submit" class="primary" disabled={!ready || draft === (current?.content ?? "")}>
          Save prompt
        </button>
      </form>
      <Status error={failed} note={note} />
      <h3>Revisions</h3>
      {saved.length <= 1 && <p class="muted">No earlier revisions.</p>}
      <ul class="list" aria-label="Revisions">
        {saved.slice(1).map((r) => (
          <li key={r.revision} class="row">
            <span>
              {r.updated_at ? when(r.updated_at) : "default"} · {r.revision} save{r.revision > 1 ? "s" : ""} back
            </span>
            <span class="actions">
              <button type="button" aria-expanded={viewing === r.revision} onClick={() => setViewing(viewing === r.revision ? null : r.revision)}>
                {viewing === r.revision ? "Hide" : "View"} revision {r.revision}
              </button>
              <button type="button" onClick={() => save(r.content, `Restored the revision from ${r.updated_at ? when(r.updated_at) : "before"}.`)}>
                Restore revision {r.revision}
              </button>
            </span>
          </li>
        ))}
      </ul>
      {shown && current && (
        <section aria-label={`Revision ${shown.revision}`} class="card">
          <h4>Revision {shown.revision}</h4>
          <pre>{shown.content}</pre>
          <h4>Compared with the prompt in use</h4>
          <Diff from={shown.content} to={current.content} />
        </section>
      )}
    </>
  );
}
