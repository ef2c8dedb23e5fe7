/** Pure helpers for the per-day chart (unit-tested without a canvas). */
import type { DayPoint } from "../bindings";

/** The smallest "nice" number (1, 2, 2.5 or 5 × 10^k) at or above `v` (> 0). */
export function niceCeil(v: number): number {
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) {
    // A little tolerance so 0.3 stays 0.3 despite floating point.
    if (step * pow >= v * (1 - 1e-9)) return step * pow;
  }
  return 10 * pow;
}

/** Top of the cost axis: just above the largest day (with headroom for the line's points),
 *  rounded to a nice figure; a small fixed scale when nothing was spent. Never below 0. */
export function costAxisMax(maxCost: number): number {
  return maxCost > 0 && Number.isFinite(maxCost) ? niceCeil(maxCost * 1.1) : 0.01;
}

/** Top of the token axis, the same way (10 when there were no tokens). */
export function tokenAxisMax(maxTokens: number): number {
  return maxTokens > 0 && Number.isFinite(maxTokens) ? niceCeil(maxTokens * 1.1) : 10;
}

/** `11-27` from `2026-11-27`: the x axis label. */
export function dayLabel(day: string): string {
  return day.slice(5);
}

/** uPlot's columns: one x slot per day (every day the engine sent, zeros included). */
export function chartColumns(days: DayPoint[]): [number[], number[], number[], number[]] {
  return [
    days.map((_, i) => i),
    days.map((d) => d.totals.input_tokens),
    days.map((d) => d.totals.output_tokens),
    days.map((d) => d.totals.cost_usd),
  ];
}

/** The day the legend describes: the hovered one, else the last (today, for a range that ends
 *  now). */
export function legendPoint(days: DayPoint[], hovered: number | null): DayPoint | null {
  if (hovered !== null && hovered >= 0 && hovered < days.length) return days[hovered];
  return days.length > 0 ? days[days.length - 1] : null;
}
