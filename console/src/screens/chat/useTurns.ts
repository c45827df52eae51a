/** The conversation on screen: stored messages, then the turns of this visit as they stream. */

import { useCallback, useRef, useState } from "preact/hooks";
import { api, type ChatOptions, type PendingApproval } from "../../api";
import { apply, emptyAnswer, follow, type Answer } from "../../turn";

export type Entry =
  | { kind: "message"; key: string; role: "user" | "assistant"; content: string; live?: boolean }
  | { kind: "answer"; key: string; answer: Answer; live?: boolean };

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
    const [{ messages }, { approvals }] = await Promise.all([
      api.history(channel),
      api.pendingApprovals(channel).catch(() => ({ approvals: [] as PendingApproval[] })),
    ]);
    const stored: Entry[] = messages.map((m) => ({ kind: "message", key: nextKey(), role: m.role, content: m.content }));
    // An approval asked before this page was loaded still waits: show it again, decidable.
    const waiting: Entry[] = approvals.map((a) => ({
      kind: "answer",
      key: nextKey(),
      answer: {
        ...emptyAnswer(),
        running: false,
        parts: [
          {
            kind: "approval",
            id: a.id,
            tool: a.tool,
            args: a.args,
            message: `AION wants to run '${a.tool}'. Still waiting for you (until ${new Date(a.expires_at).toLocaleTimeString()}).`,
            state: "pending",
          },
        ],
      },
    }));
    // What was sent while this loaded stays, after what was stored before it.
    setEntries((all) => [...stored, ...waiting, ...all.filter((e) => e.live)]);
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
    async (text: string, options: ChatOptions = {}) => {
      const key = nextKey();
      const count = (n: number | undefined, what: string) => (n ? [`${n} ${what}${n > 1 ? "s" : ""}`] : []);
      const extras = [...count(options.images?.length, "image"), ...count(options.files?.length, "file")];
      const shown = extras.length ? `${text}\n\n(${extras.join(", ")})` : text;
      setEntries((all) => [
        ...all,
        { kind: "message", key: nextKey(), role: "user", content: shown.trim(), live: true },
        { kind: "answer", key, answer: emptyAnswer(), live: true },
      ]);
      await stream(key, () => api.chat(text, channel, undefined, options));
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
