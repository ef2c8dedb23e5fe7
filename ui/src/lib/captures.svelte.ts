/** Captures deleted while the window is open, so the usage rows that link them stop offering
 *  them at once (a row keeps its `capture_id` in the database after its capture is gone; the
 *  inspector then says so). */
import { captureStartMs } from "./capture";

const gone = $state<{ ids: string[]; allUntil: number | null }>({ ids: [], allUntil: null });

/** One capture deleted (`id`), or all of them as of `at` (`id` null). */
export function forgetCaptures(id: string | null, at = Date.now()) {
  if (id === null) gone.allUntil = at;
  else gone.ids.push(id);
}

/** Whether the capture may still be there (reactive in templates). */
export function captureKept(id: string | null): id is string {
  if (id === null) return false;
  if (gone.ids.includes(id)) return false;
  const start = captureStartMs(id);
  return gone.allUntil === null || start === null || start > gone.allUntil;
}

/** Forget what was deleted (a test's fresh start). */
export function clearForgotten() {
  gone.ids.splice(0);
  gone.allUntil = null;
}
