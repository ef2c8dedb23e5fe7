import { describe, expect, it } from "vitest";
import type { DayPoint, Totals } from "../bindings";
import { chartColumns, costAxisMax, dayLabel, legendPoint, niceCeil, tokenAxisMax } from "./chart";

const zero: Totals = {
  requests: 0, errors: 0, cancelled: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0,
  cost_usd: 0, unpriced: 0, cloud_equiv_usd: 0, saved_usd: 0, avg_latency_ms: 0,
};
const point = (day: string, t: Partial<Totals> = {}): DayPoint => ({ start_ms: Date.parse(`${day}T00:00:00Z`), day, totals: { ...zero, ...t } });

describe("chart", () => {
  it("fits the cost axis to small spend, never $1 for $0.003 and never below 0", () => {
    expect(costAxisMax(0.003)).toBe(0.005);
    expect(costAxisMax(0.0042)).toBe(0.005);
    expect(costAxisMax(0.3)).toBe(0.5);
    expect(costAxisMax(1.9)).toBe(2.5);
    expect(costAxisMax(12)).toBe(20);
    // Nothing spent: a small scale, not a negative or empty one.
    expect(costAxisMax(0)).toBe(0.01);
    expect(costAxisMax(-1)).toBe(0.01);
  });
  it("rounds axis tops to nice figures", () => {
    expect(niceCeil(0.2)).toBeCloseTo(0.2);
    expect(niceCeil(0.3)).toBeCloseTo(0.5);
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(2.2)).toBe(2.5);
    expect(tokenAxisMax(0)).toBe(10);
    expect(tokenAxisMax(45_000)).toBe(50_000);
  });
  it("draws one slot per day it is given, zero days included", () => {
    const days = [
      point("2026-11-21"), point("2026-11-22"), point("2026-11-23", { requests: 1, input_tokens: 100, cost_usd: 0.5 }),
      point("2026-11-24"), point("2026-11-25", { requests: 2, output_tokens: 20 }), point("2026-11-26"), point("2026-11-27"),
    ];
    const [x, input, output, cost] = chartColumns(days);
    expect(x).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(input).toEqual([0, 0, 100, 0, 0, 0, 0]);
    expect(output).toEqual([0, 0, 0, 0, 20, 0, 0]);
    expect(cost).toEqual([0, 0, 0.5, 0, 0, 0, 0]);
    expect(dayLabel(days[2].day)).toBe("11-23");
    // The legend shows today (the last day) unless a day is hovered.
    expect(legendPoint(days, null)?.day).toBe("2026-11-27");
    expect(legendPoint(days, 2)?.day).toBe("2026-11-23");
    expect(legendPoint([], null)).toBeNull();
  });
});
