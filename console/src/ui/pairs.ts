/** Name/value rows (HTTP headers, environment variables) as a form holds them, and the object
 * the api wants from them. */

export interface Pair {
  id: number; // stable across edits: the row's key and its inputs' ids
  name: string;
  value: string;
}

let last = 0;
export function newPair(): Pair {
  return { id: ++last, name: "", value: "" };
}

/** The rows as an object; rows left blank are ignored. A value without a name, or a name given
 * twice, is a problem named for the person (`what` is "Header" or "Variable"). */
export function pairsToRecord(pairs: Pair[], what: string): { record: Record<string, string> } | { problem: string } {
  const found = new Map<string, string>(); // not an object: "__proto__" is a name like any other
  for (const [index, pair] of pairs.entries()) {
    const name = pair.name.trim();
    if (!name && !pair.value) continue;
    if (!name) return { problem: `${what} ${index + 1} has a value but no name.` };
    if (found.has(name)) return { problem: `${what} ${name} is given twice.` };
    found.set(name, pair.value);
  }
  return { record: Object.fromEntries(found) };
}
