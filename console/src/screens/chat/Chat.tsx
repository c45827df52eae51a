/** The chat screen: channels, the conversation (stored and streaming), the message box. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Channel } from "../../api";
import { AnswerView } from "./AnswerView";
import { Channels } from "./Channels";
import { Composer } from "./Composer";
import { Markdown } from "./Markdown";
import { useTurns } from "./useTurns";

/** The channel a client route names: /chat/<channel> (a link to one conversation). */
function channelOfLocation(): string {
  const match = /^\/chat\/([^/]+)$/.exec(location.pathname);
  return match ? decodeURIComponent(match[1]) : "web";
}

export function Chat({ onSignOut }: { onSignOut: () => void }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [channel, setChannelState] = useState(channelOfLocation);
  const setChannel = (id: string) => {
    history.pushState(null, "", `/chat/${encodeURIComponent(id)}`);
    setChannelState(id);
  };

  useEffect(() => {
    const onPop = () => setChannelState(channelOfLocation());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  const { entries, load, send, decide, cancel, busy, canCancel } = useTurns(channel);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.channels().then(({ channels: listed }) => {
      const blank = (id: string): Channel => ({ id, label: id === "web" ? "Web" : id, count: 0, last_ts: null, last_msg: null });
      const missing = [...new Set(["web", channel])].filter((id) => !listed.some((c) => c.id === id));
      setChannels([...missing.map(blank), ...listed]);
    }, () => {});
  }, [busy, channel]);

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
