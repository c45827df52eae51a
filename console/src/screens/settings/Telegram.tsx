/** The Telegram bot: its token (masked), who may talk to it, where unprompted answers go, and
 * whether it is polling. */

import { useState } from "preact/hooks";
import { api } from "../../api";
import { Status } from "../../ui/Status";
import { messageOf, useLoad } from "../../ui/useLoad";

const lines = (text: string) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

export function Telegram() {
  const { data, error, reload } = useLoad(() => api.telegram());
  const [token, setToken] = useState("");
  const [edits, setEdits] = useState<{ allowed?: string; groups?: string; owner?: string }>({});
  const [note, setNote] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  if (!data) return <Status error={error} />;

  const allowed = edits.allowed ?? data.allowed_ids.join("\n");
  const groups = edits.groups ?? data.group_chats.join("\n");
  const owner = edits.owner ?? data.owner_chat ?? "";

  const save = async (event: Event) => {
    event.preventDefault();
    const body: Record<string, unknown> = { allowed_ids: lines(allowed), group_chats: lines(groups), owner_chat: owner.trim() || null };
    if (token.trim()) body.token = token.trim();
    try {
      const saved = await api.saveTelegram(body);
      setToken("");
      setEdits({});
      setFailed(null);
      setNote(`Saved. Polling ${saved.polling_active ? "is active" : "is not active"}.`);
      await reload();
    } catch (e) {
      setFailed(messageOf(e));
      setNote(null);
    }
  };

  return (
    <form class="stack" onSubmit={save} noValidate>
      <p>
        Polling: <strong>{data.polling_active ? "active" : "not active"}</strong> · Token:{" "}
        <span class="mono">{data.token_set ? data.token_masked : "not set"}</span>
      </p>
      <label for="tg-token">Bot token (leave empty to keep the current one)</label>
      <input id="tg-token" type="password" autocomplete="off" placeholder="123456:ABC…" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
      <label for="tg-allowed">Allowed user ids (one per line)</label>
      <textarea id="tg-allowed" rows={3} value={allowed} onInput={(e) => setEdits({ ...edits, allowed: (e.target as HTMLTextAreaElement).value })} />
      <label for="tg-groups">Group chats (negative ids, one per line)</label>
      <textarea id="tg-groups" rows={2} value={groups} onInput={(e) => setEdits({ ...edits, groups: (e.target as HTMLTextAreaElement).value })} />
      <label for="tg-owner">Owner chat (where answers with no chat of their own go)</label>
      <input id="tg-owner" value={owner} onInput={(e) => setEdits({ ...edits, owner: (e.target as HTMLInputElement).value })} />
      <Status error={failed} note={note} />
      <button type="submit" class="primary">
        Save Telegram settings
      </button>
    </form>
  );
}
