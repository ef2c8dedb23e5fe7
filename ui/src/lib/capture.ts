/** The inspector's pure helpers: "Copy as curl" without a secret, the engine's words about an
 *  attempt put in the viewer's language, and what a capture id says about its time. */
import type { Attempt, Header } from "../bindings";
import type { MessageKey } from "./i18n-en";

/** What the engine writes instead of a credential's value (`capture::REDACTED`). */
export const REDACTED = "[redacted]";

/** Headers curl sets itself, or that would make the copy fail (a stale length, an encoding
 *  curl would not undo). */
const LEFT_TO_CURL = new Set(["host", "content-length", "transfer-encoding", "connection", "accept-encoding"]);

/** A shell variable name for the key of `backend`: `anthropic` → `ANTHROPIC_API_KEY`. */
export function keyVariable(backend: string): string {
  const base = backend.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "BACKEND";
  return `${/^[0-9]/.test(base) ? `KEY_${base}` : base}_API_KEY`;
}

/** The variable a redacted header is given as: the backend's key for the usual key headers,
 *  a name of its own for any other. */
function variableFor(backend: string, header: string): string {
  const name = header.toLowerCase();
  if (name === "x-api-key" || name === "authorization" || name === "api-key" || name === "x-goog-api-key") return keyVariable(backend);
  return header.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "SECRET";
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The attempt's request as a curl command: its URL, its headers and its body, byte for byte.
 *  A header whose value was never captured (a key) is written with a shell variable in its
 *  place, which `comment(variables)` tells the user to set; no secret can be in it, since the
 *  capture holds none. */
export function curlCommand(a: Pick<Attempt, "backend" | "url" | "headers" | "body">, comment: (variables: string) => string): string {
  const lines = [`curl -X POST ${quote(a.url)}`];
  const variables: string[] = [];
  for (const h of a.headers) {
    if (LEFT_TO_CURL.has(h.name.toLowerCase())) continue;
    if (h.value === REDACTED) {
      const variable = variableFor(a.backend, h.name);
      if (!variables.includes(variable)) variables.push(variable);
      const value = h.name.toLowerCase() === "authorization" ? `Bearer $${variable}` : `$${variable}`;
      lines.push(`-H "${h.name}: ${value}"`);
    } else {
      lines.push(`-H ${quote(`${h.name}: ${h.value}`)}`);
    }
  }
  if (a.body !== "") lines.push(`--data-raw ${quote(a.body)}`);
  const command = lines.join(" \\\n  ");
  return variables.length > 0 ? `# ${comment(variables.map((v) => `$${v}`).join(", "))}\n${command}\n` : `${command}\n`;
}

/** Whether a header's value was left out of the capture. */
export const isRedacted = (h: Header) => h.value === REDACTED;

/** What the gateway did after a failed attempt, as the engine words it (`proxy/mod.rs`), in
 *  the viewer's language; `null` for words it does not know (shown as they are). */
export function nextKey(next: string): MessageKey | null {
  switch (next) {
    case "the next key of the pool":
      return "inspector.next.key";
    case "answered the client with this error":
      return "inspector.next.stop";
    case "retried on this backend, then the next target":
      return "inspector.next.retried";
    case "the next target":
      return "inspector.next.target";
    default:
      return null;
  }
}

/** The replay's note as the engine words it (`proxy/replay.rs`), in the viewer's language. */
export function replayNoteKey(note: string): MessageKey | null {
  return note.startsWith("The original was streamed; the replay asks for the whole answer at once") ? "inspector.replay.streamNote" : null;
}

/** When a capture started, from its id (the engine's `new_id`: the start in ms as 11 hex
 *  digits, then random ones); `null` for an id of another shape. */
export function captureStartMs(id: string): number | null {
  if (!/^[0-9a-f]{19}$/.test(id)) return null;
  return parseInt(id.slice(0, 11), 16);
}
