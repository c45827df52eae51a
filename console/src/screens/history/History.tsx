/** Past conversations of every channel, newest first: searched by what was said, paged. */

import { useEffect, useState } from "preact/hooks";
import { api, type Channel, type ConversationSummary } from "../../api";
import { onNotice, REFRESHING } from "../../notices";
import { Link } from "../../ui/Link";
import { Status } from "../../ui/Status";
import { messageOf } from "../../ui/useLoad";

// One formatter: making one per call costs more than a long list's whole render.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso: string): string {
  return dateTime.format(new Date(iso));
}

export function History() {
  const [query, setQuery] = useState(() => new URLSearchParams(location.search).get("search") ?? "");
  const [search, setSearch] = useState(query);
  const [channel, setChannel] = useState("");
  const [channels, setChannels] = useState<Channel[]>([]);
  const [items, setItems] = useState<ConversationSummary[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [noticed, setNoticed] = useState(0); // a turn ended elsewhere: the first page changed
  useEffect(() => onNotice((n) => REFRESHING.has(n.type) && setNoticed((k) => k + 1)), []);

  const fetchPage = async (before?: number) => {
    setLoading(true);
    try {
      const page = await api.conversations(search, before, channel || undefined);
      setItems((all) => (before ? [...all, ...page.conversations] : page.conversations));
      setHasMore(page.has_more);
      setError(null);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    api.channels().then((r) => setChannels(r.channels), () => {});
  }, []);

  useEffect(() => {
    fetchPage();
    // The search is in the address too: a reload or a shared link finds the same.
    history.replaceState(null, "", search ? `/history?search=${encodeURIComponent(search)}` : "/history");
  }, [search, channel, noticed]);

  return (
    <main class="page history">
      <h2>History</h2>
      <form
        role="search"
        class="searchbar"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(query.trim());
        }}
      >
        <label for="history-search">Search conversations</label>
        <input
          id="history-search"
          type="search"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
        <label for="history-channel">Channel</label>
        <select id="history-channel" value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
          <option value="">All channels</option>
          {channels.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </form>
      <Status error={error} />
      <p class="muted" aria-live="polite">
        {loading ? "Loading…" : items.length === 0 ? (search ? `Nothing matches “${search}”.` : "No conversations yet.") : ""}
      </p>
      <ul class="list" aria-label="Conversations">
        {items.map((c) => (
          <li key={c.id}>
            <Link href={`/history/${c.id}`} class="row">
              <span class="title">{c.title || "(untitled)"}</span>
              <span class="muted">
                {c.channel} · {c.messages} message{c.messages === 1 ? "" : "s"} · {when(c.last_at)}
                {c.open ? " · open" : ""}
              </span>
            </Link>
          </li>
        ))}
      </ul>
      {hasMore && (
        <button type="button" disabled={loading} onClick={() => fetchPage(items[items.length - 1]?.id)}>
          Load older
        </button>
      )}
    </main>
  );
}
