import { describe, expect, it } from "vitest";
import { formatCostTotal, formatDuration, formatMs, formatTokens, formatUsd, maskSecret, move, rangeStart, shortId } from "./format";

describe("format", () => {
  it("abbreviates token counts", () => {
    expect(formatTokens(999)).toBe("999");
    expect(formatTokens(1500)).toBe("1.5k");
    expect(formatTokens(32768)).toBe("32.8k");
    expect(formatTokens(131072)).toBe("131k");
    expect(formatTokens(2_500_000)).toBe("2.5M");
  });
  it("shows dollars with enough precision for tiny costs", () => {
    expect(formatUsd(null)).toBe("—");
    expect(formatUsd(0)).toBe("$0");
    expect(formatUsd(0.0042)).toBe("$0.0042");
    expect(formatUsd(12.345)).toBe("$12.35");
  });
  it("never shows an unknown cost as $0", () => {
    expect(formatCostTotal({ cost_usd: 0, unpriced: 0 }, "unknown")).toBe("$0");
    expect(formatCostTotal({ cost_usd: 0, unpriced: 3 }, "unknown")).toBe("unknown");
    expect(formatCostTotal({ cost_usd: 1.2, unpriced: 1 }, "unknown")).toBe("$1.20+");
    expect(formatCostTotal({ cost_usd: 1.2, unpriced: 0 }, "unknown")).toBe("$1.20");
  });
  it("formats durations", () => {
    expect(formatMs(null)).toBe("—");
    expect(formatMs(312)).toBe("312 ms");
    expect(formatMs(1530)).toBe("1.5 s");
    expect(formatMs(125_000)).toBe("2 min 5 s");
  });
  it("says how long a session lasted in its two largest units", () => {
    const en = { ms: "ms", s: "s", min: "min", h: "h", d: "d" };
    expect(formatDuration(450, en)).toBe("450 ms");
    expect(formatDuration(42_400, en)).toBe("42 s");
    expect(formatDuration(185_000, en)).toBe("3 min 5 s");
    expect(formatDuration(180_200, en)).toBe("3 min");
    expect(formatDuration(3_599_700, en)).toBe("1 h");
    expect(formatDuration(3_900_000, en)).toBe("1 h 5 min");
    expect(formatDuration(27 * 3_600_000 + 10 * 60_000, en)).toBe("1 d 3 h");
    expect(formatDuration(185_000, { ms: "毫秒", s: "秒", min: "分", h: "小时", d: "天" })).toBe("3 分 5 秒");
    expect(shortId("5b1c2d3e-8f4a-4c6b-9d2e-7a1f3c5e9b80")).toBe("5b1c2d3e");
  });
  it("masks secrets, keeping only the ends", () => {
    const masked = maskSecret("sy-local-7f3c9a1e5b2d4c6f8e0a1b3c5d7e9f21");
    expect(masked.startsWith("sy-l")).toBe(true);
    expect(masked.endsWith("9f21")).toBe(true);
    expect(masked).not.toContain("7f3c9a1e");
    expect(maskSecret("short")).toBe("•••••");
  });
  it("computes range starts at UTC midnight, the engine's day boundary", () => {
    const now = Date.UTC(2026, 10, 23, 15, 30);
    const today = Date.UTC(2026, 10, 23);
    expect(rangeStart("today", now)).toBe(today);
    expect(rangeStart("7d", now)).toBe(Date.UTC(2026, 10, 17));
    expect(rangeStart("30d", now)).toBe(Date.UTC(2026, 9, 25));
    // Just after midnight UTC is already the new day.
    expect(rangeStart("today", Date.UTC(2026, 10, 24, 0, 0, 1))).toBe(Date.UTC(2026, 10, 24));
    expect(rangeStart("all", now)).toBeNull();
  });
  it("moves list items without mutating the input", () => {
    const list = ["a", "b", "c"];
    expect(move(list, 2, 0)).toEqual(["c", "a", "b"]);
    expect(move(list, 0, 5)).toEqual(["a", "b", "c"]);
    expect(list).toEqual(["a", "b", "c"]);
  });
});

import { sanitizeNavigatorLocale } from "./locale-guard";

describe("locale guard", () => {
  it("replaces the POSIX 'C' locale that Intl rejects", () => {
    const nav = { language: "C", languages: ["C", "zh-CN"] } as unknown as Navigator;
    sanitizeNavigatorLocale(nav);
    expect(nav.language).toBe("zh-CN");
    expect(nav.languages).toEqual(["zh-CN"]);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
  });
  it("leaves valid tags alone", () => {
    const nav = { language: "en-GB", languages: ["en-GB"] } as unknown as Navigator;
    sanitizeNavigatorLocale(nav);
    expect(nav.language).toBe("en-GB");
  });
});
