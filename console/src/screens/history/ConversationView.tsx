/** One past conversation: read it, download it (Markdown or JSON), delete it. */

import { api } from "../../api";
import { navigate } from "../../route";
import { ConfirmButton } from "../../ui/Confirm";
import { Link } from "../../ui/Link";
import { Status } from "../../ui/Status";
import { messageOf, useLoad } from "../../ui/useLoad";
import { Markdown } from "../chat/Markdown";
import { when } from "./History";
import { useEffect, useRef, useState } from "preact/hooks";

const CHUNK = 50;

/** Grows `shown` by CHUNK whenever the sentinel comes near: a long conversation opens with its
 * first messages and renders the rest as they are scrolled to. */
function useGrowing(total: number): [number, (el: HTMLElement | null) => void] {
  const [shown, setShown] = useState(CHUNK);
  const sentinel = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (!sentinel.current || shown >= total) return;
    const observer = new IntersectionObserver(
      (seen) => {
        if (seen.some((e) => e.isIntersecting)) setShown((n) => Math.min(total, n + CHUNK));
      },
      { rootMargin: "1500px 0px" },
    );
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [shown, total]);
  return [shown, (el) => (sentinel.current = el)];
}

export function ConversationView({ id }: { id: number }) {
  const { data, error } = useLoad(() => api.conversation(id), [id]);
  const [failed, setFailed] = useState<string | null>(null);
  const [shown, sentinel] = useGrowing(data?.messages.length ?? 0);

  const remove = async () => {
    try {
      await api.deleteConversation(id);
      navigate("/history");
    } catch (e) {
      setFailed(messageOf(e));
    }
  };

  return (
    <main class="page conversation-page">
      <p>
        <Link href="/history">← History</Link>
      </p>
      <Status error={error ?? failed} />
      {data && (
        <>
          <h2>{data.title || "(untitled)"}</h2>
          <p class="muted">
            {data.channel} · started {when(data.started_at)} · {data.messages.length} messages
            {data.open ? " · still open" : ""}
          </p>
          <div class="actions">
            <a class="button" href={api.exportUrl(id, "md")} download>
              Export Markdown
            </a>
            <a class="button" href={api.exportUrl(id, "json")} download>
              Export JSON
            </a>
            <ConfirmButton
              label="Delete"
              question="Delete this conversation for good?"
              confirmLabel="Delete conversation"
              onConfirm={remove}
            />
          </div>
          <div class="messages transcript">
            {data.messages.slice(0, shown).map((m, index) => (
              <article key={index} class={`message ${m.role}`} aria-label={m.role === "user" ? "You" : "AION"}>
                <p class="muted stamp">{when(m.timestamp)}</p>
                <Markdown text={m.content} />
              </article>
            ))}
            {shown < data.messages.length && (
              <p class="muted" ref={sentinel}>
                Loading more ({data.messages.length - shown} left)…
              </p>
            )}
          </div>
        </>
      )}
    </main>
  );
}
