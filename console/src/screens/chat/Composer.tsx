import { useState } from "preact/hooks";
import { api, type ChatOptions, type Provider } from "../../api";
import { useLoad } from "../../ui/useLoad";

const MAX_IMAGES = 8;

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The message box: Enter sends, Shift+Enter starts a new line; Cancel while a turn runs.
 * Beside it what goes with the message: the model, a spoken reply, attached images. */
export function Composer({
  busy,
  canCancel,
  onSend,
  onCancel,
}: {
  busy: boolean;
  canCancel: boolean;
  onSend: (text: string, options: ChatOptions) => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState("");
  const [model, setModel] = useState("");
  const [voice, setVoice] = useState(false);
  const [images, setImages] = useState<{ name: string; url: string }[]>([]);
  const { data: providers } = useLoad(() => api.providers());

  const submit = (event?: Event) => {
    event?.preventDefault();
    const message = text.trim();
    if ((!message && images.length === 0) || busy) return;
    setText("");
    setImages([]);
    const options: ChatOptions = {};
    if (model) options.model = model;
    if (voice) options.voice = true;
    if (images.length) options.images = images.map((i) => i.url);
    onSend(message, options);
  };

  const attach = async (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])].filter((f) => f.type.startsWith("image/"));
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, url: await readAsDataUrl(f) })));
    setImages((all) => [...all, ...read].slice(0, MAX_IMAGES));
    input.value = "";
  };

  return (
    <form class="composer" onSubmit={submit}>
      <div class="composer-options">
        <label>
          <span>Model</span>
          <select value={model} onChange={(e) => setModel((e.target as HTMLSelectElement).value)}>
            <option value="">Active ({providers?.active_model ?? "…"})</option>
            {providers?.providers
              .filter((p: Provider) => p.models.length > 0)
              .map((p) => (
                <optgroup key={p.id} label={p.configured ? p.label : `${p.label} (no key)`}>
                  {p.models.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </optgroup>
              ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={voice} onChange={(e) => setVoice((e.target as HTMLInputElement).checked)} />
          <span>Spoken reply</span>
        </label>
        <label class="attach">
          <span>Attach image</span>
          <input
            type="file"
            accept="image/*"
            multiple
            onChange={(e) => attach(e.target as HTMLInputElement)}
          />
        </label>
        {images.map((image, index) => (
          <span class="chip" key={image.url}>
            <img src={image.url} alt="" />
            {image.name}
            <button
              type="button"
              aria-label={`Remove ${image.name}`}
              onClick={() => setImages((all) => all.filter((_, i) => i !== index))}
            >
              ×
            </button>
          </span>
        ))}
      </div>
      <div class="composer-row">
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
          <button type="submit" class="primary" disabled={busy || (!text.trim() && images.length === 0)}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}
