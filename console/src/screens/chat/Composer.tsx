import { useState } from "preact/hooks";
import { api, ApiError, type ChatOptions, type Provider, type StoredFile } from "../../api";
import { useLoad } from "../../ui/useLoad";

const MAX_IMAGES = 8;
const MAX_FILES = 10; // the api takes at most 10 file ids per message

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The message box: Enter sends, Shift+Enter starts a new line; Cancel while a turn runs.
 * Beside it what goes with the message: the model, a spoken reply, attached images and documents
 * (documents are uploaded at once with POST /api/files; the message carries their ids). */
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
  const [files, setFiles] = useState<StoredFile[]>([]);
  const [uploading, setUploading] = useState(0);
  const [fileError, setFileError] = useState("");
  const { data: providers } = useLoad(() => api.providers());

  const submit = (event?: Event) => {
    event?.preventDefault();
    const message = text.trim();
    if ((!message && images.length === 0 && files.length === 0) || busy || uploading) return;
    setText("");
    setImages([]);
    setFiles([]);
    const options: ChatOptions = {};
    if (model) options.model = model;
    if (voice) options.voice = true;
    if (images.length) options.images = images.map((i) => i.url);
    if (files.length) options.files = files.map((f) => f.id);
    onSend(message, options);
  };

  const attach = async (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])].filter((f) => f.type.startsWith("image/"));
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, url: await readAsDataUrl(f) })));
    setImages((all) => [...all, ...read].slice(0, MAX_IMAGES));
    input.value = "";
  };

  const attachFiles = async (input: HTMLInputElement) => {
    const picked = [...(input.files ?? [])];
    input.value = "";
    setFileError("");
    for (const file of picked) {
      setUploading((n) => n + 1);
      try {
        const stored = await api.uploadFile(file);
        if (stored.status === "ready") setFiles((all) => [...all, stored].slice(0, MAX_FILES));
        else setFileError(`${file.name} is still being read; attach it again in a moment.`);
      } catch (error) {
        const detail = error instanceof ApiError ? error.detail : String(error);
        setFileError(`${file.name}: ${detail}`);
      } finally {
        setUploading((n) => n - 1);
      }
    }
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
        <label class="attach">
          <span>Attach file</span>
          <input
            type="file"
            multiple
            aria-describedby={fileError ? "file-error" : undefined}
            onChange={(e) => attachFiles(e.target as HTMLInputElement)}
          />
        </label>
        {uploading > 0 && <span class="muted" role="status">Uploading…</span>}
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
        {files.map((file) => (
          <span class="chip file-chip" key={file.id}>
            <span>
              {file.name}
              {file.pages ? <span class="muted"> · {file.pages} {file.pages === 1 ? "page" : "pages"}</span> : null}
            </span>
            <button
              type="button"
              aria-label={`Remove ${file.name}`}
              onClick={() => setFiles((all) => all.filter((f) => f.id !== file.id))}
            >
              ×
            </button>
          </span>
        ))}
        {fileError && (
          <p id="file-error" role="alert" class="error file-error">
            {fileError}
          </p>
        )}
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
          <button type="submit" class="primary" disabled={busy || uploading > 0 || (!text.trim() && images.length === 0 && files.length === 0)}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}
