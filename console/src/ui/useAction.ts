import { useState } from "preact/hooks";
import { messageOf } from "./useLoad";

/**
 * A panel's actions, one at a time: each says what it did (a quiet note) or fails with the api's
 * detail, and `after` (usually the panel's reload) runs once one succeeded. `working` is true
 * while one runs, so its buttons can wait.
 */
export function useAction(after?: () => unknown) {
  const [note, setNote] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [working, setWorking] = useState(false);

  /** Run `action`; true when it succeeded. */
  const act = async (action: () => Promise<string>): Promise<boolean> => {
    setWorking(true);
    try {
      const said = await action();
      setNote(said);
      setFailed(null);
      await after?.();
      return true;
    } catch (e) {
      setFailed(messageOf(e));
      setNote(null);
      return false;
    } finally {
      setWorking(false);
    }
  };

  return { note, failed, working, act, setNote, setFailed };
}
