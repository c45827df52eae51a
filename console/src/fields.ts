/** A 422's detail split back onto the fields it names: the api writes "field: what; field: what". */
export function fieldErrors(detail: string, fields: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of detail.split("; ")) {
    // The longest name first: `max_history_turns` before a field called `max`.
    const field = [...fields]
      .sort((a, b) => b.length - a.length)
      .find((f) => part.startsWith(`${f}:`) || part.startsWith(`${f}.`));
    if (field) found[field] = found[field] ? `${found[field]}; ${part}` : part;
  }
  return found;
}
