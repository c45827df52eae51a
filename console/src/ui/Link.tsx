import type { ComponentChildren } from "preact";
import { onLink } from "../route";

/** An in-console link: a real <a href> (keyboard, new tab) that routes without a reload. */
export function Link({
  href,
  children,
  current,
  class: className,
}: {
  href: string;
  children: ComponentChildren;
  current?: boolean;
  class?: string;
}) {
  return (
    <a href={href} class={className} aria-current={current ? "page" : undefined} onClick={(e) => onLink(e, href)}>
      {children}
    </a>
  );
}
