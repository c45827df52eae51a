/** Sign-in: the API token is sent once and never kept by the page (the api sets a cookie). */

import { useState } from "preact/hooks";
import { ApiError, api } from "../../api";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api.signIn(token.trim());
      setToken("");
      onSignedIn();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError("That API token is not valid.");
      else if (e instanceof ApiError && e.status === 429)
        setError(`Too many wrong tokens from here; try again in ${e.retryAfter ?? 1} s.`);
      else setError(e instanceof Error ? e.message : "Sign-in failed.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">AION</h1>
        <p>Sign in with the owner's API token (the api writes it to its log or token file at first start).</p>
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
