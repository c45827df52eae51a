/** The chat screen: channels, the conversation (stored and streaming), the message box. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Channel } from "../../api";
import { AnswerView } from "./AnswerView";
import { Channels } from "./Channels";
import { Composer } from "./Composer";
import { Markdown } from "./Markdown";
import { useTurns } from "./useTurns";

export function Chat({ onSignOut }: { onSignOut: () => void }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [channel, setChannel] = useState("web");
  const { entries, load, send, decide, cancel, busy, canCancel } = useTurns(channel);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.channels().then(({ channels: listed }) => {
      const web: Channel = { id: "web", label: "Web", count: 0, last_ts: null, last_msg: null };
      setChannels(listed.some((c) => c.id === "web") ? listed : [web, ...listed]);
    }, () => {});
  }, [busy]);

  useEffect(() => {
    load().catch(() => {});
  }, [load]);

  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [entries]);

  return (
    <div class="shell">
      <header class="topbar">
        <h1>AION</h1>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <Channels channels={channels} current={channel} onPick={setChannel} />
      <main class="conversation" aria-label={`Conversation ${channel}`}>
        <div class="messages" aria-live="polite">
          {entries.map((entry) =>
            entry.kind === "message" ? (
              <article key={entry.key} class={`message ${entry.role}`} aria-label={entry.role === "user" ? "You" : "AION"}>
                <Markdown text={entry.content} />
              </article>
            ) : (
              <AnswerView
                key={entry.key}
                answer={entry.answer}
                onDecide={(id, approve) => decide(entry.key, id, approve)}
              />
            ),
          )}
          <div ref={end} />
        </div>
        <Composer busy={busy} canCancel={canCancel} onSend={send} onCancel={cancel} />
      </main>
    </div>
  );
}
