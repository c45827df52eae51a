/** A panel's last outcome: an error (announced at once) or a quiet confirmation. */
export function Status({ error, note }: { error?: string | null; note?: string | null }) {
  if (error)
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  if (note)
    return (
      <p role="status" class="note">
        {note}
      </p>
    );
  return null;
}
