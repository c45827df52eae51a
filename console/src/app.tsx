/** The console's shell: signed in or not (the session store), then the screen the path names. */

import { useEffect, useState } from "preact/hooks";
import { api, whenSignedOut } from "./api";
import { Notices } from "./notices";
import { usePath } from "./route";
import { Chat } from "./screens/chat/Chat";
import { ConversationView } from "./screens/history/ConversationView";
import { History } from "./screens/history/History";
import { Settings } from "./screens/settings/Settings";
import { Shell } from "./screens/shell/Shell";
import { SignIn } from "./screens/signin/SignIn";

type Session = "checking" | "signed-out" | "signed-in";

function Screen({ path }: { path: string }) {
  const chat = /^\/chat\/([^/]+)$/.exec(path);
  if (path === "/" || chat) {
    const channel = chat ? decodeURIComponent(chat[1]) : "web";
    return <Chat key={channel} channel={channel} />; // a conversation of its own per channel
  }
  const conversation = /^\/history\/(\d+)$/.exec(path);
  if (conversation) return <ConversationView id={Number(conversation[1])} />;
  if (path === "/history") return <History />;
  const settings = /^\/settings(?:\/([a-z-]+))?$/.exec(path);
  if (settings) return <Settings panel={settings[1] ?? "model"} />;
  return (
    <main class="page">
      <h2>Not found</h2>
      <p>
        Nothing at {path}. <a href="/">Back to the chat</a>
      </p>
    </main>
  );
}

export function App() {
  const [session, setSession] = useState<Session>("checking");
  const path = usePath();

  useEffect(() => {
    whenSignedOut(() => setSession("signed-out"));
    // The cookie is HttpOnly: the page learns whether it has a session by asking.
    api.channels().then(
      () => setSession("signed-in"),
      () => setSession("signed-out"),
    );
  }, []);

  const signOut = async () => {
    try {
      await api.signOut();
    } finally {
      setSession("signed-out");
    }
  };

  if (session === "checking") return <p class="loading">Loading…</p>;
  if (session === "signed-out") return <SignIn onSignedIn={() => setSession("signed-in")} />;
  return (
    <>
      <Shell path={path} onSignOut={signOut}>
        <Screen path={path} />
      </Shell>
      <Notices />
    </>
  );
}
