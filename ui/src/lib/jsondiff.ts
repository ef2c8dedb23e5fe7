/** What changed between the body the client sent and the body that went upstream: the JSON
 *  fields by path (what routing and translation did: the model swapped, `system` moved into
 *  the messages, tools re-shaped), a line diff of the two re-indented texts, and the headers. */
import type { Header } from "../bindings";
import type { ViewLine } from "./textview";

export type ChangeKind = "added" | "removed" | "changed";

/** One difference: where, what kind, the value before and after (short JSON text). */
export interface Change {
  path: string;
  kind: ChangeKind;
  before: string | null;
  after: string | null;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** A value as short JSON text (cut to `max` characters). */
export function shortJson(v: unknown, max = 160): string {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function key(path: string, k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => same(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && same(a[k], b[k]));
  }
  return false;
}

/** The differences between two JSON values, by path, in the order of the first value's
 *  fields (then the second's new ones). Objects with no field in common (a tool re-shaped by
 *  a translation) count as one change rather than one per field. At most `limit` are listed;
 *  `more` counts the rest. */
export function jsonChanges(a: unknown, b: unknown, limit = 300): { changes: Change[]; more: number } {
  const changes: Change[] = [];
  let more = 0;
  const push = (c: Change) => {
    if (changes.length < limit) changes.push(c);
    else more++;
  };
  const walk = (x: unknown, y: unknown, path: string) => {
    if (same(x, y)) return;
    if (isObject(x) && isObject(y)) {
      const kx = Object.keys(x);
      const ky = Object.keys(y);
      const shared = kx.some((k) => k in y);
      if (shared || kx.length === 0 || ky.length === 0) {
        for (const k of kx) {
          if (k in y) walk(x[k], y[k], key(path, k));
          else push({ path: key(path, k), kind: "removed", before: shortJson(x[k]), after: null });
        }
        for (const k of ky) if (!(k in x)) push({ path: key(path, k), kind: "added", before: null, after: shortJson(y[k]) });
        return;
      }
    } else if (Array.isArray(x) && Array.isArray(y)) {
      const common = Math.min(x.length, y.length);
      for (let i = 0; i < common; i++) walk(x[i], y[i], `${path}[${i}]`);
      for (let i = common; i < x.length; i++) push({ path: `${path}[${i}]`, kind: "removed", before: shortJson(x[i]), after: null });
      for (let i = common; i < y.length; i++) push({ path: `${path}[${i}]`, kind: "added", before: null, after: shortJson(y[i]) });
      return;
    }
    push({ path: path || "(the whole body)", kind: "changed", before: shortJson(x), after: shortJson(y) });
  };
  walk(a, b, "");
  return { changes, more };
}

/** The top-level fields of two JSON objects, sorted by what happened to them. */
export function topLevel(a: unknown, b: unknown): { changed: string[]; added: string[]; removed: string[]; same: string[] } {
  const out = { changed: [] as string[], added: [] as string[], removed: [] as string[], same: [] as string[] };
  if (!isObject(a) || !isObject(b)) return out;
  for (const k of Object.keys(a)) {
    if (!(k in b)) out.removed.push(k);
    else if (same(a[k], b[k])) out.same.push(k);
    else out.changed.push(k);
  }
  for (const k of Object.keys(b)) if (!(k in a)) out.added.push(k);
  return out;
}

/** One step of a line diff: a line of both texts, or of one of them. */
export interface DiffOp {
  op: " " | "-" | "+";
  text: string;
}

/** A line diff (Myers) of `a` and `b`; `null` when the texts need more than `maxEdits`
 *  added or removed lines (too different for a line diff to help). */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 1500): DiffOp[] | null {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const A = a.slice(head, a.length - tail);
  const B = b.slice(head, b.length - tail);
  const n = A.length;
  const m = B.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  // trace[d]: the frontier before step d, for diagonals -d-1..d+1 only (memory ~ D²).
  const trace: Int32Array[] = [];
  const v = new Int32Array(2 * max + 3);
  let found = n === 0 && m === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found) return null;
  // Back from the end through the saved frontiers.
  const middle: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d];
    const at = (k: number) => vd[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      middle.push({ op: " ", text: A[x - 1] });
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) middle.push({ op: "+", text: B[y - 1] });
    else middle.push({ op: "-", text: A[x - 1] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    middle.push({ op: " ", text: A[x - 1] });
    x--;
    y--;
  }
  middle.reverse();
  return [
    ...a.slice(0, head).map((text): DiffOp => ({ op: " ", text })),
    ...middle,
    ...a.slice(a.length - tail).map((text): DiffOp => ({ op: " ", text })),
  ];
}

/** A line diff as view lines: changes with `context` lines around them, the unchanged
 *  stretches between folded into one line that says how many it hides. */
export function diffView(ops: readonly DiffOp[], fold: (n: number) => string, context = 3): ViewLine[] {
  const out: ViewLine[] = [];
  const changed = ops.map((o) => o.op !== " ");
  const near = new Uint8Array(ops.length);
  changed.forEach((c, i) => {
    if (!c) return;
    for (let k = Math.max(0, i - context); k <= Math.min(ops.length - 1, i + context); k++) near[k] = 1;
  });
  let hidden = 0;
  for (let i = 0; i < ops.length; i++) {
    if (!near[i]) {
      hidden++;
      continue;
    }
    if (hidden > 0) out.push({ text: fold(hidden), cls: "fold" });
    hidden = 0;
    const o = ops[i];
    out.push({ text: o.text, gutter: o.op === " " ? "" : o.op, cls: o.op === "+" ? "add" : o.op === "-" ? "del" : undefined });
  }
  if (hidden > 0) out.push({ text: fold(hidden), cls: "fold" });
  return out;
}

/** Headers that differ between two lists (names compared without case). */
export function headerChanges(a: readonly Header[], b: readonly Header[]): Change[] {
  const byName = (hs: readonly Header[]) => {
    const m = new Map<string, string[]>();
    for (const h of hs) {
      const k = h.name.toLowerCase();
      m.set(k, [...(m.get(k) ?? []), h.value]);
    }
    return m;
  };
  const ma = byName(a);
  const mb = byName(b);
  const out: Change[] = [];
  for (const [name, va] of ma) {
    const vb = mb.get(name);
    if (!vb) out.push({ path: name, kind: "removed", before: va.join(", "), after: null });
    else if (va.join("\n") !== vb.join("\n")) out.push({ path: name, kind: "changed", before: va.join(", "), after: vb.join(", ") });
  }
  for (const [name, vb] of mb) if (!ma.has(name)) out.push({ path: name, kind: "added", before: null, after: vb.join(", ") });
  return out;
}
