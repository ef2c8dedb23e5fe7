import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/svelte";
import { createState, perDay } from "../mocks/fake-engine";
import { rangeStart } from "../lib/format";
import DailyChart from "./DailyChart.svelte";

afterEach(() => cleanup());

describe("DailyChart", () => {
  it("draws every day of a 7-day range, the days without requests included", () => {
    const now = Date.UTC(2026, 10, 27, 12, 0);
    const s = createState("default", now);
    // Requests on two days only: Nov 23 (one) and Nov 25 (two).
    const rows = [s.rows[0], s.rows[1], s.rows[2]].map((r, i) => ({
      ...r,
      started_at_ms: [Date.UTC(2026, 10, 23, 9), Date.UTC(2026, 10, 25, 1), Date.UTC(2026, 10, 25, 23, 59)][i],
    }));
    const days = perDay(rows, { since_ms: rangeStart("7d", now), until_ms: null }, now);
    expect(days.map((d) => d.day)).toEqual(["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]);

    render(DailyChart, { props: { days, today: "2026-11-27" } });
    const items = [...screen.getByTestId("chart-days").querySelectorAll("li")].map((li) => li.textContent);
    expect(items).toHaveLength(7);
    expect(items[0]).toBe("2026-11-21: 0 requests, 0 tokens, $0");
    expect(items[2]).toMatch(/^2026-11-23: 1 request, /);
    expect(items[4]).toMatch(/^2026-11-25: 2 requests, /);
    // The legend shows today's figures, each with what it is and its unit.
    const legend = screen.getByTestId("chart-legend").textContent ?? "";
    expect(legend).toContain("Today (2026-11-27)");
    expect(legend).toContain("0 requests");
    expect(legend).toContain("Input tokens: 0");
    expect(legend).toContain("Cost (USD): $0");
  });
});
