/** Display helpers. Pure functions so they are unit-tested without a DOM. */

export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trim(n / 1000)}k`;
  if (n < 1_000_000_000) return `${trim(n / 1_000_000)}M`;
  return `${trim(n / 1_000_000_000)}B`;
}

function trim(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1).replace(/\.0$/, "") : x.toFixed(2).replace(/\.?0+$/, "");
}

/** Dollars: cents for normal amounts, more digits for the tiny per-request costs. */
export function formatUsd(v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "$0";
  if (Math.abs(v) < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toFixed(2)}`;
}

/** A sum of costs where some requests have no known price: unknown when none is known, a
 *  lower bound ("$1.20+") when some are. Never "$0" for costs nobody knows. */
export function formatCostTotal(t: { cost_usd: number; unpriced: number; requests?: number }, unknown: string): string {
  if (t.unpriced === 0) return formatUsd(t.cost_usd);
  if (t.cost_usd === 0) return unknown;
  return `${formatUsd(t.cost_usd)}+`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The words for each unit of a duration, in the viewer's language. */
export interface DurationUnits { ms: string; s: string; min: string; h: string; d: string }

/** How long something lasted, in the two largest units a person would say: `42 s`,
 *  `3 min 5 s`, `1 h 5 min`, `2 d 3 h` (a zero second unit is left out: `3 min`). */
export function formatDuration(ms: number, u: DurationUnits): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ${u.ms}`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} ${u.s}`;
  if (s < 3600) return pair(Math.floor(s / 60), u.min, s % 60, u.s);
  const min = Math.round(s / 60);
  if (min < 24 * 60) return pair(Math.floor(min / 60), u.h, min % 60, u.min);
  const h = Math.round(min / 60);
  return pair(Math.floor(h / 24), u.d, h % 24, u.h);
}

/** The start of a Claude Code session or agent id (UUIDs): enough to tell them apart on screen. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** `14:03:27` today, `Nov 21 14:03` otherwise (in the viewer's time zone). */
export function formatTime(ms: number, now: number = Date.now(), lang = "en"): string {
  const d = new Date(ms);
  const n = new Date(now);
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  const locale = lang === "zh-CN" ? "zh-CN" : "en-US";
  if (sameDay) return d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return d.toLocaleString(locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
}

/** Masks a secret for display: keeps a recognisable prefix and the last 4 characters. */
export function maskSecret(s: string): string {
  if (s.length <= 8) return "•".repeat(s.length);
  return `${s.slice(0, 4)}${"•".repeat(Math.min(16, s.length - 8))}${s.slice(-4)}`;
}

/** Start of the range in Unix ms for the Usage filter: UTC midnight, like the engine's days, so
 *  a 7-day range is exactly 7 days of the per-day chart (today included). */
export function rangeStart(range: "today" | "7d" | "30d" | "all", now: number = Date.now()): number | null {
  if (range === "all") return null;
  const daysBack = { today: 0, "7d": 6, "30d": 29 }[range];
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - daysBack);
}

/** Moves item `from` to index `to`, returning a new array (for reorderable rule lists). */
export function move<T>(list: readonly T[], from: number, to: number): T[] {
  if (from < 0 || from >= list.length || to < 0 || to >= list.length) return [...list];
  const out = [...list];
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item);
  return out;
}
