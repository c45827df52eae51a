import { useMemo } from "preact/hooks";
import { renderMarkdown } from "../../markdown";

/** Markdown, rendered and sanitised (the only innerHTML of the console). */
export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
