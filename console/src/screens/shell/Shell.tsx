/** The signed-in frame: the console's sections, sign-out and the update banner, then the screen. */

import type { ComponentChildren } from "preact";
import { api } from "../../api";
import { Link } from "../../ui/Link";
import { useLoad } from "../../ui/useLoad";

const SECTIONS = [
  { href: "/chat/web", match: "/chat", label: "Chat" },
  { href: "/history", match: "/history", label: "History" },
  { href: "/settings", match: "/settings", label: "Settings" },
];

export function Shell({
  path,
  onSignOut,
  children,
}: {
  path: string;
  onSignOut: () => void;
  children: ComponentChildren;
}) {
  const section = path === "/" ? "/chat" : `/${path.split("/")[1]}`;
  return (
    <div class="shell">
      <header class="topbar">
        <h1>AION</h1>
        <nav aria-label="Sections" class="sections">
          {SECTIONS.map((s) => (
            <Link key={s.href} href={s.href} current={section === s.match}>
              {s.label}
            </Link>
          ))}
        </nav>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <UpdateBanner />
      <div class="body">{children}</div>
    </div>
  );
}

/** Shown only when a newer release is known (the api checks on its own schedule). */
function UpdateBanner() {
  const { data } = useLoad(() => api.updateStatus());
  if (!data?.update_available) return null;
  return (
    <aside class="banner" aria-label="Update available">
      AION {data.latest_version} is available (this is {data.current_version}).{" "}
      {data.release_url && (
        <a href={data.release_url} target="_blank" rel="noopener noreferrer">
          Release notes
        </a>
      )}
    </aside>
  );
}
