/** The console's shell: signed in or not (the session store), then the screen. */

import { useEffect, useState } from "preact/hooks";
import { api, whenSignedOut } from "./api";
import { Notices } from "./notices";
import { Chat } from "./screens/chat/Chat";
import { SignIn } from "./screens/signin/SignIn";

type Session = "checking" | "signed-out" | "signed-in";

export function App() {
  const [session, setSession] = useState<Session>("checking");

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
      <Chat onSignOut={signOut} />
      <Notices />
    </>
  );
}
