import type { Channel } from "../../api";

/** Every channel with history (and the web one): pick the conversation to show. */
export function Channels({
  channels,
  current,
  onPick,
}: {
  channels: Channel[];
  current: string;
  onPick: (id: string) => void;
}) {
  return (
    <nav class="channels" aria-label="Channels">
      <ul>
        {channels.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              aria-current={c.id === current ? "page" : undefined}
              onClick={() => onPick(c.id)}
              title={c.last_msg ?? undefined}
            >
              <span>{c.label}</span>
              <span class="muted">{c.count}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
