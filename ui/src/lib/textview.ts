/** What the inspector's text views show, as pure functions (unit-tested without a DOM): JSON
 *  pretty-printed from its text, a stream's chunks as a timeline, search matches, and long
 *  lines wrapped into rows of one height so a view renders only the rows in sight. */

/** One line of a view: its text, what its gutter says (a line number, a time, + or -), and a
 *  class for its kind (`add`, `del`, `fold`, `chunk` for the first line of a stream chunk). */
export interface ViewLine {
  text: string;
  gutter?: string;
  cls?: "add" | "del" | "fold" | "chunk";
}

/** JSON text re-indented, every byte of its values kept as written (key order, number
 *  spelling, escapes): `null` when the text is not a JSON object or array. */
export function prettyJson(text: string, indent = "  "): string | null {
  const src = text.trim();
  if (src === "" || (src[0] !== "{" && src[0] !== "[")) return null;
  try {
    JSON.parse(src);
  } catch {
    return null;
  }
  const out: string[] = [];
  const pads = [""];
  const pad = (d: number) => {
    while (pads.length <= d) pads.push(pads[pads.length - 1] + indent);
    return pads[d];
  };
  let depth = 0;
  const n = src.length;
  let i = 0;
  const nextSolid = (from: number) => {
    let k = from;
    while (k < n && (src[k] === " " || src[k] === "\n" || src[k] === "\r" || src[k] === "\t")) k++;
    return k;
  };
  while (i < n) {
    const c = src[i];
    if (c === '"') {
      // To the closing quote, stepping over escapes.
      let j = i + 1;
      for (;;) {
        const q = src.indexOf('"', j);
        if (q < 0) {
          j = n;
          break;
        }
        let slashes = 0;
        for (let k = q - 1; src[k] === "\\"; k--) slashes++;
        if (slashes % 2 === 0) {
          j = q + 1;
          break;
        }
        j = q + 1;
      }
      out.push(src.slice(i, j));
      i = j;
    } else if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      const k = nextSolid(i + 1);
      if (src[k] === close) {
        out.push(c + close);
        i = k + 1;
      } else {
        depth++;
        out.push(c, "\n", pad(depth));
        i++;
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out.push("\n", pad(depth), c);
      i++;
    } else if (c === ",") {
      out.push(",\n", pad(depth));
      i++;
    } else if (c === ":") {
      out.push(": ");
      i++;
    } else if (c === " " || c === "\n" || c === "\r" || c === "\t") {
      i++;
    } else {
      // A number, true, false or null: up to the next structural character or space.
      let j = i + 1;
      while (j < n && !",:]} \n\r\t".includes(src[j])) j++;
      out.push(src.slice(i, j));
      i = j;
    }
  }
  return out.join("");
}

/** A body as lines with their numbers: JSON re-indented, anything else as it came. */
export function bodyLines(body: string): { lines: ViewLine[]; json: boolean } {
  const pretty = prettyJson(body);
  const text = pretty ?? body;
  const lines = text === "" ? [] : text.split("\n").map((t, i) => ({ text: t.replace(/\r$/, ""), gutter: String(i + 1) }));
  return { lines, json: pretty !== null };
}

/** `412 ms` after the request reached the gateway (a tenth of a ms under 10 ms). */
export function chunkTime(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** A stream's chunks as a timeline: each chunk's lines, its arrival time in the gutter of its
 *  first line (ms after the request reached the gateway). SSE's blank separator lines at the
 *  end of a chunk are dropped; an NDJSON line stays one line. */
export function timelineLines(chunks: readonly { at_ms: number; data: string }[]): ViewLine[] {
  const out: ViewLine[] = [];
  for (const chunk of chunks) {
    const parts = chunk.data.replace(/\r\n/g, "\n").split("\n");
    while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    parts.forEach((text, k) => out.push(k === 0 ? { text, gutter: `+${chunkTime(chunk.at_ms)}`, cls: "chunk" } : { text }));
  }
  return out;
}

/** One place a search found: line, and the span of characters in it. */
export interface Match {
  line: number;
  start: number;
  end: number;
}

/** Every place `query` occurs in `lines`, case-insensitively, in reading order (at most
 *  `limit`: a one-letter search over 100 KB stays quick). */
export function findMatches(lines: readonly ViewLine[], query: string, limit = 20_000): Match[] {
  if (query === "") return [];
  const re = new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
  const out: Match[] = [];
  for (let line = 0; line < lines.length; line++) {
    const text = lines[line].text;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      out.push({ line, start: m.index, end: m.index + m[0].length });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** A row on screen: a piece of line `line` from character `from` to `to`. */
export interface Row {
  line: number;
  from: number;
  to: number;
}

/** Lines cut into rows of at most `cols` characters (`cols` 0: one row per line), after a space
 *  or a comma (compact JSON has no spaces) when there is one in the second half of the row,
 *  else mid-word. */
export function wrapRows(lines: readonly ViewLine[], cols: number): Row[] {
  const rows: Row[] = [];
  for (let line = 0; line < lines.length; line++) {
    const text = lines[line].text;
    const len = text.length;
    if (cols <= 0 || len <= cols) {
      rows.push({ line, from: 0, to: len });
      continue;
    }
    for (let from = 0; from < len; ) {
      let to = Math.min(len, from + cols);
      if (to < len) {
        let k = to - 1;
        while (k >= from + cols / 2 && text[k] !== " " && text[k] !== ",") k--;
        if (k >= from + cols / 2) to = k + 1;
      }
      rows.push({ line, from, to });
      from = to;
    }
  }
  return rows;
}

/** The row that shows character `at` of line `line` (rows are in order). */
export function rowOf(rows: readonly Row[], line: number, at: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const r = rows[mid];
    if (r.line < line || (r.line === line && r.from <= at)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A piece of a row's text: plain, a match (1) or the current match (2). */
export interface Segment {
  text: string;
  mark: 0 | 1 | 2;
}

/** A row's text split where matches start and end. `matches` are the matches of the row's
 *  line (indices into `all`), `current` the index of the current match in `all`. */
export function segments(text: string, row: Row, all: readonly Match[], mine: readonly number[], current: number): Segment[] {
  const out: Segment[] = [];
  let at = row.from;
  for (const k of mine) {
    const m = all[k];
    if (m.end <= row.from || m.start >= row.to) continue;
    const s = Math.max(m.start, row.from);
    const e = Math.min(m.end, row.to);
    if (s > at) out.push({ text: text.slice(at, s), mark: 0 });
    out.push({ text: text.slice(s, e), mark: k === current ? 2 : 1 });
    at = e;
  }
  if (at < row.to || out.length === 0) out.push({ text: text.slice(at, row.to), mark: 0 });
  return out;
}
