import { useState } from "preact/hooks";

/** The message box: Enter sends, Shift+Enter starts a new line; Cancel while a turn runs. */
export function Composer({
  busy,
  canCancel,
  onSend,
  onCancel,
}: {
  busy: boolean;
  canCancel: boolean;
  onSend: (text: string) => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState("");
  const submit = (event?: Event) => {
    event?.preventDefault();
    const message = text.trim();
    if (!message || busy) return;
    setText("");
    onSend(message);
  };
  return (
    <form class="composer" onSubmit={submit}>
      <label for="message" class="visually-hidden">
        Message
      </label>
      <textarea
        id="message"
        rows={2}
        placeholder="Message AION"
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
        }}
      />
      {canCancel ? (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      ) : (
        <button type="submit" class="primary" disabled={busy || !text.trim()}>
          Send
        </button>
      )}
    </form>
  );
}
