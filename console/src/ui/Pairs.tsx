import { useRef } from "preact/hooks";
import { newPair, type Pair } from "./pairs";

/**
 * Editable name/value rows in a fieldset: each row's inputs labelled with its number, values
 * typed like passwords (they are secrets), a row added (its name focused) or removed by button.
 */
export function Pairs({
  id,
  legend,
  what,
  pairs,
  onChange,
  error,
  hint,
}: {
  id: string;
  legend: string;
  what: string; // one row, for labels: "Header", "Variable"
  pairs: Pair[];
  onChange: (pairs: Pair[]) => void;
  error?: string;
  hint?: string;
}) {
  const focusNext = useRef<number | null>(null);
  const set = (row: number, change: Partial<Pair>) => onChange(pairs.map((p) => (p.id === row ? { ...p, ...change } : p)));
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <fieldset class="pairs" id={id} aria-describedby={described}>
      <legend>{legend}</legend>
      {hint && (
        <p class="muted" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {pairs.map((pair, index) => (
        <div class="pair" key={pair.id}>
          <label class="visually-hidden" for={`${id}-${pair.id}-name`}>
            {what} {index + 1} name
          </label>
          <input
            id={`${id}-${pair.id}-name`}
            placeholder="Name"
            autocomplete="off"
            spellcheck={false}
            value={pair.name}
            ref={(el) => {
              if (el && focusNext.current === pair.id) {
                focusNext.current = null;
                el.focus();
              }
            }}
            onInput={(e) => set(pair.id, { name: (e.target as HTMLInputElement).value })}
          />
          <label class="visually-hidden" for={`${id}-${pair.id}-value`}>
            {what} {index + 1} value
          </label>
          <input
            id={`${id}-${pair.id}-value`}
            type="password"
            placeholder="Value"
            autocomplete="off"
            value={pair.value}
            onInput={(e) => set(pair.id, { value: (e.target as HTMLInputElement).value })}
          />
          <button type="button" onClick={() => onChange(pairs.filter((p) => p.id !== pair.id))}>
            Remove<span class="visually-hidden"> {what.toLowerCase()} {index + 1}</span>
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() => {
          const added = newPair();
          focusNext.current = added.id;
          onChange([...pairs, added]);
        }}
      >
        Add {what.toLowerCase()}
      </button>
      {error && (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
