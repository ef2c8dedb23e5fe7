import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { createState, handle, newRow, SEED_SESSIONS, statusOf, type FakeState } from "../mocks/fake-engine";
import { formatCostTotal, formatTokens } from "../lib/format";
import { setLang } from "../lib/i18n.svelte";
import type { RequestRow, UsageFilter } from "../bindings";
import Usage from "./Usage.svelte";

let state: FakeState;
function install(scenario: Parameters<typeof createState>[0] = "default", fail?: string[]) {
  state = createState(scenario, Date.now(), fail);
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
}

beforeEach(() => install());
afterEach(() => {
  cleanup();
  clearMocks();
  setLang("en");
});

const [S1, S2] = SEED_SESSIONS.map((s) => s.id);
const SUB_A = "a3f9c2e1-7b4d-4e8a-9c1f-2d6e8b0a4c71";
const SUB_B = "e71b04d9-2c5a-4f3e-8b6d-91a0c4f2e5d3";

/** Sums written out here rather than taken from the fake's own session code. */
function sums(rows: RequestRow[]) {
  return {
    requests: rows.length,
    tokens: `${formatTokens(rows.reduce((a, r) => a + r.input_tokens, 0))} / ${formatTokens(rows.reduce((a, r) => a + r.output_tokens, 0))}`,
    cost: formatCostTotal({
      cost_usd: rows.reduce((a, r) => a + (r.cost_usd ?? 0), 0),
      unpriced: rows.filter((r) => r.cost_usd === null).length,
    }, "unknown"),
  };
}
const rowsOf = (session: string) => state.rows.filter((r) => r.session_id === session);
const tableRows = (testid: string) => [...document.querySelectorAll(`[data-testid="${testid}"] tbody tr`)] as HTMLTableRowElement[];

async function openSessions() {
  render(Usage);
  await screen.findByTestId("kpi-requests");
  await fireEvent.click(document.querySelector('[data-view="sessions"]')!);
  await screen.findByTestId("session-list");
}

describe("Usage: Sessions view", () => {
  it("lists Claude Code sessions newest first with their totals, for the range chosen", async () => {
    await openSessions();
    const call = state.calls.filter((c) => c.cmd === "usage_sessions").pop()!.args as { filter: UsageFilter; limit: number };
    expect(call.limit).toBe(100);
    expect(call.filter.since_ms).not.toBeNull();
    // Every seeded session is inside the default 7 days; the seed lists them newest first.
    expect(tableRows("session-list").map((tr) => tr.dataset.session)).toEqual(SEED_SESSIONS.map((s) => s.id));
    expect(screen.getByTestId("sessions-help").textContent).toBe(
      "Only requests from Claude Code carry a session, so requests from other clients are listed under Requests only.",
    );

    const first = tableRows("session-list")[0];
    const want = sums(rowsOf(S1));
    const cell = (id: string) => within(first).getByTestId(id).textContent!.trim();
    expect(cell("session-requests")).toBe(String(want.requests));
    expect(want.requests).toBe(8);
    expect(cell("session-tokens")).toBe(want.tokens);
    expect(cell("session-cost")).toBe(want.cost);
    expect(cell("session-subagents")).toBe("2 subagents");
    expect(within(tableRows("session-list")[2]).queryByTestId("session-subagents")).toBeNull();
    // Eight requests 65 s apart; the newest ended 0.9 s after it started.
    expect(cell("session-duration")).toBe("lasted 7 min 36 s");
    expect(first.textContent).toContain("anthropic/claude-opus-4-1");
    // The session that kept the history's 47-minute spacing lasted hours.
    expect(within(tableRows("session-list")[3]).getByTestId("session-duration").textContent).toMatch(/^lasted 13 h \d+ min$/);
    // Requests from other clients are in no session.
    expect(state.rows.some((r) => r.session_id === null)).toBe(true);
  });

  it("follows the filters, and says so when no session matches", async () => {
    await openSessions();
    // No seeded request was cancelled.
    await fireEvent.change(screen.getByTestId("usage-status"), { target: { value: "cancelled" } });
    expect((await screen.findByTestId("sessions-empty")).textContent).toBe("No Claude Code sessions match these filters.");
    // The text search cannot choose sessions, so it is not offered here.
    expect(screen.queryByTestId("usage-search")).toBeNull();
  });

  it("opens a session: only its requests, subagent rows badged, each agent's totals; back returns to the list", async () => {
    await openSessions();
    await fireEvent.click(within(tableRows("session-list")[0]).getByTestId("open-session"));
    const detail = await screen.findByTestId("session-detail");
    expect(screen.getByTestId("session-title").textContent).toBe("Session 5b1c2d3e");
    expect(screen.getByTestId("session-title").getAttribute("title")).toBe(S1);
    expect(screen.getByTestId("session-meta").textContent).toMatch(/Started .+, lasted 7 min 36 s · 8 requests \(1 error\) · \$[\d.]+ · 2 subagents/);
    expect(detail).toBeTruthy();

    // The history narrowed to the session: all of it, whatever the range and filters.
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(8));
    const query = state.calls.filter((c) => c.cmd === "query_usage").pop()!.args as { filter: UsageFilter };
    expect(query.filter).toMatchObject({ session_id: S1, since_ms: null, status: null, profile: null, backend: null });
    const badges = screen.getAllByTestId("subagent-badge");
    expect(badges).toHaveLength(rowsOf(S1).filter((r) => r.agent_id !== null).length);
    expect(badges.map((b) => b.parentElement!.getAttribute("title")).sort()).toEqual([
      `Sent by subagent ${SUB_A}`, `Sent by subagent ${SUB_A}`, `Sent by subagent ${SUB_B}`, `Sent by subagent ${SUB_B}`,
    ]);
    expect(badges[0].textContent).toBe("↳ subagent");
    expect(badges[0].parentElement!.textContent).toMatch(/subagent\s+(a3f9c2e1|e71b04d9)/);

    // Main agent first, then subagents by their first request; B was started by A.
    const agents = tableRows("agent-breakdown");
    expect(agents.map((tr) => tr.dataset.agent)).toEqual(["main", SUB_A, SUB_B]);
    expect(agents[0].cells[0].textContent!.trim()).toBe("Main agent");
    expect(agents[1].cells[0].textContent!.trim()).toBe("↳ Subagent a3f9c2e1");
    expect(agents[2].cells[0].textContent).toContain("Started by subagent a3f9c2e1");
    expect(agents[1].querySelector("[title]")!.getAttribute("title")).toBe(SUB_A);
    for (const [tr, id] of [[agents[0], null], [agents[1], SUB_A], [agents[2], SUB_B]] as const) {
      const want = sums(rowsOf(S1).filter((r) => r.agent_id === id));
      expect(tr.cells[2].textContent!.trim()).toBe(String(want.requests));
      expect(tr.cells[3].textContent!.trim()).toBe(want.tokens);
      expect(tr.cells[4].textContent!.trim()).toBe(want.cost);
    }

    await fireEvent.click(screen.getByTestId("back-to-sessions"));
    await screen.findByTestId("session-list");
    expect(screen.queryByTestId("session-detail")).toBeNull();
    expect(tableRows("session-list")).toHaveLength(SEED_SESSIONS.length);
  });

  it("shows a session without subagents with its main agent alone, and Requests goes back to the whole history", async () => {
    await openSessions();
    await fireEvent.click(within(tableRows("session-list")[2]).getByTestId("open-session"));
    await screen.findByTestId("session-detail");
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(2));
    expect(screen.queryAllByTestId("subagent-badge")).toHaveLength(0);
    expect(tableRows("agent-breakdown").map((tr) => tr.dataset.agent)).toEqual(["main"]);
    await fireEvent.click(document.querySelector('[data-view="requests"]')!);
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(25));
    expect(screen.queryByTestId("session-detail")).toBeNull();
  });

  it("refreshes the list and an open session when new requests are stored", async () => {
    await openSessions();
    await fireEvent.click(within(tableRows("session-list")[1]).getByTestId("open-session"));
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(12));
    newRow(state, { session_id: S2, agent_id: null, parent_agent_id: null });
    await emit("usage-changed", { status: statusOf(state) });
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(13));
    expect(screen.getByTestId("session-meta").textContent).toContain("13 requests");

    await fireEvent.click(screen.getByTestId("back-to-sessions"));
    await screen.findByTestId("session-list");
    newRow(state, { session_id: S1 });
    await emit("usage-changed", { status: statusOf(state) });
    await waitFor(() => expect(within(tableRows("session-list")[0]).getByTestId("session-requests").textContent!.trim()).toBe("9"));
  });

  it("says when the sessions cannot be read, and Retry reads them again", async () => {
    clearMocks();
    install("default", ["usage_sessions"]);
    render(Usage);
    await screen.findByTestId("kpi-requests");
    await fireEvent.click(document.querySelector('[data-view="sessions"]')!);
    let alert = await screen.findByTestId("usage-error");
    expect(alert.textContent).toContain("The usage database is locked by another process");
    // In the card: the totals stay, and so does the way back to the requests.
    expect(screen.getByTestId("kpi-requests")).toBeTruthy();
    await fireEvent.click(document.querySelector('[data-view="requests"]')!);
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(25));
    expect(screen.queryByTestId("usage-error")).toBeNull();
    await fireEvent.click(document.querySelector('[data-view="sessions"]')!);
    alert = await screen.findByTestId("usage-error");
    state.fail.clear();
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    await screen.findByTestId("session-list");
    expect(screen.queryByTestId("usage-error")).toBeNull();
  });

  it("speaks Chinese", async () => {
    setLang("zh-CN");
    await openSessions();
    expect(screen.getByTestId("sessions-help").textContent).toContain("只有来自 Claude Code 的请求带有会话");
    expect(within(tableRows("session-list")[0]).getByTestId("session-duration").textContent).toBe("持续 7 分 36 秒");
    await fireEvent.click(within(tableRows("session-list")[0]).getByTestId("open-session"));
    await screen.findByTestId("session-detail");
    expect(screen.getByTestId("session-title").textContent).toBe("会话 5b1c2d3e");
    expect(tableRows("agent-breakdown")[0].cells[0].textContent!.trim()).toBe("主代理");
    await waitFor(() => expect(screen.getAllByTestId("subagent-badge")[0].textContent).toContain("子代理"));
  });
});

describe("Usage: the request table's rule and notes", () => {
  it("shows which rule routed each request and what the gateway noted, in the viewer's language", async () => {
    state.rows[0].rule = "rule 3: * when images, subagent";
    render(Usage);
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(25));
    const rules = screen.getAllByTestId("row-rule").map((r) => r.textContent);
    expect(rules).toContain("rule 2: *sonnet*");
    expect(rules).toContain("default route");
    expect(rules[0]).toBe("rule 3: * when images, subagent");
    expect(screen.getAllByTestId("row-rule")[0].getAttribute("title")).toMatch(/^Routed by /);
    const notes = screen.getAllByTestId("row-note");
    expect(notes.length).toBe(state.rows.slice(0, 25).filter((r) => r.notes).length);
    expect(notes[0].getAttribute("title")).toBe("server tools dropped for ollama: web_search_20250305");

    setLang("zh-CN");
    await waitFor(() => expect(screen.getAllByTestId("row-rule").map((r) => r.textContent)).toContain("规则 2：*sonnet*"));
    expect(screen.getAllByTestId("row-rule").map((r) => r.textContent)).toContain("默认路由");
    // The pattern and the config's condition words stay as written.
    expect(screen.getAllByTestId("row-rule")[0].textContent).toBe("规则 3：*（条件：images, subagent）");
  });
});

describe("Usage: a cache hit", () => {
  it("is badged in the request table, and only it", async () => {
    state.rows[0].cache_hit = true;
    render(Usage);
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(25));
    const hits = screen.getAllByTestId("row-cache-hit");
    expect(hits).toHaveLength(state.rows.slice(0, 25).filter((r) => r.cache_hit).length);
    expect(hits[0].textContent).toBe("cached");
    expect(hits[0].getAttribute("title")).toMatch(/^Answered from Switchyard's response cache/);
  });
});

describe("Usage: the key a request went with", () => {
  it("is named under the backend when the row has one, and only then", async () => {
    render(Usage);
    await waitFor(() => expect(tableRows("request-table")).toHaveLength(25));
    const shown = state.rows.slice(0, 25);
    const keys = screen.getAllByTestId("row-key");
    expect(keys).toHaveLength(shown.filter((r) => r.key_name).length);
    expect(keys.length).toBeGreaterThan(0);
    const first = shown.find((r) => r.key_name)!.key_name!;
    expect(keys[0].textContent).toBe(`key ${first}`);
    expect(keys[0].getAttribute("title")).toBe(`Sent with the key ${first} of anthropic.`);
    // In the row of the request that used it.
    const row = tableRows("request-table")[shown.findIndex((r) => r.key_name)];
    expect(row.contains(keys[0])).toBe(true);
    // Both keys of the pool show up, the backend's own as "default".
    expect(new Set(keys.map((k) => k.textContent))).toEqual(new Set(["key team", "key default"]));

    setLang("zh-CN");
    await waitFor(() => expect(screen.getAllByTestId("row-key")[0].textContent).toBe(`密钥 ${first}`));
  });
});
