/** What AION remembers: searched, paged, forgotten one by one or all at once. */

import { useEffect, useState } from "preact/hooks";
import { api, type MemoryEntry } from "../../api";
import { ConfirmButton } from "../../ui/Confirm";
import { Status } from "../../ui/Status";
import { messageOf } from "../../ui/useLoad";
import { when } from "../history/History";

const PAGE = 25;

export function Memory() {
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const [entries, setEntries] = useState<MemoryEntry[]>([]);
  const [total, setTotal] = useState(0);
  const [hasMore, setHasMore] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);

  const load = async () => {
    try {
      const page = await api.memory(search, offset, PAGE);
      setEntries(page.entries);
      setTotal(page.total);
      setHasMore(page.has_more);
      setFailed(null);
    } catch (e) {
      setFailed(messageOf(e));
    }
  };
  useEffect(() => {
    load();
  }, [search, offset]);

  const act = async (action: () => Promise<string>) => {
    try {
      setNote(await action());
      await load();
    } catch (e) {
      setFailed(messageOf(e));
    }
  };

  return (
    <>
      <form
        role="search"
        class="searchbar"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setSearch(query.trim());
        }}
      >
        <label for="memory-search">Search memories</label>
        <input id="memory-search" type="search" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <Status error={failed} note={note} />
      <p class="muted">
        {total === 0 ? "No memories." : `${offset + 1}–${offset + entries.length} of ${total}`}
      </p>
      <ul class="list" aria-label="Memories">
        {entries.map((m) => (
          <li key={m.id} class="row">
            <span>
              <span class="memory-text">{m.content}</span>
              <span class="muted">
                {m.category} · {when(m.timestamp)}
                {m.channel ? ` · ${m.channel}` : ""}
              </span>
            </span>
            <button
              type="button"
              aria-label={`Forget: ${m.content.slice(0, 60)}`}
              onClick={() => act(async () => (await api.deleteMemory(m.id), "Forgotten."))}
            >
              Forget
            </button>
          </li>
        ))}
      </ul>
      <div class="actions">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Newer
        </button>
        <button type="button" disabled={!hasMore} onClick={() => setOffset(offset + PAGE)}>
          Older
        </button>
      </div>
      <h3>Forget everything</h3>
      <ConfirmButton
        label="Delete all memories"
        question={`Delete all ${total} memories? This cannot be undone.`}
        confirmLabel="Delete everything"
        onConfirm={() =>
          act(async () => {
            const { deleted } = await api.deleteAllMemory();
            setOffset(0);
            return `${deleted} memories deleted.`;
          })
        }
      />
    </>
  );
}
