/** One past conversation: read it, download it (Markdown or JSON), delete it. */

import { api } from "../../api";
import { navigate } from "../../route";
import { ConfirmButton } from "../../ui/Confirm";
import { Link } from "../../ui/Link";
import { Status } from "../../ui/Status";
import { messageOf, useLoad } from "../../ui/useLoad";
import { Markdown } from "../chat/Markdown";
import { when } from "./History";
import { useState } from "preact/hooks";

export function ConversationView({ id }: { id: number }) {
  const { data, error } = useLoad(() => api.conversation(id), [id]);
  const [failed, setFailed] = useState<string | null>(null);

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
            {data.messages.map((m, index) => (
              <article key={index} class={`message ${m.role}`} aria-label={m.role === "user" ? "You" : "AION"}>
                <p class="muted stamp">{when(m.timestamp)}</p>
                <Markdown text={m.content} />
              </article>
            ))}
          </div>
        </>
      )}
    </main>
  );
}
