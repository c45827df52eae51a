/** The chat screen: channels, the conversation (stored and streaming), the message box. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Channel } from "../../api";
import { onNotice, REFRESHING } from "../../notices";
import { navigate } from "../../route";
import { AnswerView } from "./AnswerView";
import { Channels } from "./Channels";
import { Composer } from "./Composer";
import { Markdown } from "./Markdown";
import { useTurns } from "./useTurns";

export function Chat({ channel }: { channel: string }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const { entries, load, send, decide, cancel, busy, canCancel } = useTurns(channel);
  const end = useRef<HTMLDivElement>(null);
  // A turn ended or a reminder fired elsewhere: the channel list's counts and order change.
  const [noticed, setNoticed] = useState(0);
  useEffect(() => onNotice((n) => REFRESHING.has(n.type) && setNoticed((k) => k + 1)), []);

  useEffect(() => {
    api.channels().then(({ channels: listed }) => {
      const blank = (id: string): Channel => ({ id, label: id === "web" ? "Web" : id, count: 0, last_ts: null, last_msg: null });
      const missing = [...new Set(["web", channel])].filter((id) => !listed.some((c) => c.id === id));
      setChannels([...missing.map(blank), ...listed]);
    }, () => {});
  }, [busy, channel, noticed]);

  useEffect(() => {
    load().catch(() => {});
  }, [load]);

  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [entries]);

  return (
    <div class="split">
      <Channels channels={channels} current={channel} onPick={(id) => navigate(`/chat/${encodeURIComponent(id)}`)} />
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
