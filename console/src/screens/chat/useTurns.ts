/** The conversation on screen: stored messages, then the turns of this visit as they stream. */

import { useCallback, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { apply, emptyAnswer, follow, type Answer } from "../../turn";

export type Entry =
  | { kind: "message"; key: string; role: "user" | "assistant"; content: string }
  | { kind: "answer"; key: string; answer: Answer };

let counter = 0;
const nextKey = () => `e${++counter}`;

export function useTurns(channel: string) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [job, setJob] = useState<string | null>(null);
  const running = useRef(false);
  const [busy, setBusy] = useState(false);

  const update = useCallback((key: string, change: (answer: Answer) => Answer) => {
    setEntries((all) => all.map((e) => (e.kind === "answer" && e.key === key ? { ...e, answer: change(e.answer) } : e)));
  }, []);

  const load = useCallback(async () => {
    const { messages } = await api.history(channel);
    setEntries(messages.map((m) => ({ kind: "message", key: nextKey(), role: m.role, content: m.content })));
  }, [channel]);

  /** Follow a stream into the answer `key` until the turn ends. */
  const stream = useCallback(
    async (key: string, start: () => Promise<Response>) => {
      running.current = true;
      setBusy(true);
      try {
        await follow(await start(), {
          onJob: setJob,
          onEvent: (type, data) => update(key, (a) => apply(a, type, data)),
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : "The turn failed.";
        update(key, (a) => ({ ...a, running: false, error: message }));
      } finally {
        running.current = false;
        setBusy(false);
        setJob(null);
      }
    },
    [update],
  );

  const send = useCallback(
    async (text: string) => {
      const key = nextKey();
      setEntries((all) => [
        ...all,
        { kind: "message", key: nextKey(), role: "user", content: text },
        { kind: "answer", key, answer: emptyAnswer() },
      ]);
      await stream(key, () => api.chat(text, channel));
    },
    [channel, stream],
  );

  const decide = useCallback(
    async (key: string, approvalId: string, approve: boolean) => {
      const decided = (a: Answer): Answer => ({
        ...a,
        running: true,
        parts: a.parts.map((p) =>
          p.kind === "approval" && p.id === approvalId ? { ...p, state: approve ? "approved" : "denied" } : p,
        ),
      });
      update(key, decided);
      await stream(key, async () => {
        const response = await api.decide(approvalId, approve);
        if (approve) return response; // the resumed turn's own stream
        const { job: denied } = (await response.json()) as { job: string };
        return api.events(denied, ""); // the model is told in a turn of its own
      });
    },
    [stream, update],
  );

  const cancel = useCallback(async () => {
    if (job) await api.cancel(job);
  }, [job]);

  return { entries, load, send, decide, cancel, busy, canCancel: busy && job !== null };
}
