import { useEffect, useMemo, useRef } from "preact/hooks";
import { renderMarkdown } from "../../markdown";

/** A Copy button on each code block (added after rendering: the HTML itself stays sanitised). */
function addCopyButtons(root: HTMLElement): void {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.parentElement?.classList.contains("code")) continue;
    const wrap = document.createElement("div");
    wrap.className = "code";
    pre.replaceWith(wrap);
    wrap.append(pre);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(pre.innerText);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed";
      }
      setTimeout(() => (button.textContent = "Copy"), 1500);
    });
    wrap.append(button);
  }
}

/** Markdown, rendered and sanitised (the only innerHTML of the console). */
export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (root.current) addCopyButtons(root.current);
  }, [html]);
  return <div class="markdown" ref={root} dangerouslySetInnerHTML={{ __html: html }} />;
}
