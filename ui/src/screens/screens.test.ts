import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import { toasts } from "../lib/toast.svelte";
import Backends from "./Backends.svelte";
import Mapping from "./Mapping.svelte";
import Usage from "./Usage.svelte";
import Settings from "./Settings.svelte";

let state: FakeState;
function install(scenario: Parameters<typeof createState>[0] = "default") {
  state = createState(scenario);
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
}

beforeEach(() => install());
afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Backends", () => {
  it("lists backends with local/cloud badges and key status, never a key", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    const anthropic = document.querySelector('[data-backend="anthropic"]')!;
    expect(anthropic.textContent).toContain("Key stored in keychain");
    expect(anthropic.textContent).toContain("Cloud");
  });

  it("adds a backend from a preset and sends the key to the keychain only", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    await fireEvent.click(screen.getByTestId("add-backend"));
    await fireEvent.click(document.querySelector('[data-preset="deepseek"]')!);
    const key = document.querySelector('input[name="api_key"]') as HTMLInputElement;
    await fireEvent.input(key, { target: { value: "sk-canary-123" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    await waitFor(() => expect(state.keychain.deepseek).toBe("sk-canary-123"));
    const saved = state.backends.find((b) => b.id === "deepseek")!;
    expect(saved.base_url).toBe("https://api.deepseek.com/anthropic");
    expect(saved.kind).toBe("anthropic");
    // The page shows the stored state, not the key.
    await waitFor(() => expect(document.querySelector('[data-backend="deepseek"]')?.textContent).toContain("Key stored in keychain"));
    expect(document.body.innerHTML).not.toContain("sk-canary-123");
  });

  it("shows the engine's validation message when saving fails", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    await fireEvent.click(screen.getByTestId("add-backend"));
    const url = document.querySelector('input[name="base_url"]') as HTMLInputElement;
    await fireEvent.input(url, { target: { value: "127.0.0.1:9999" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    const alert = await screen.findByTestId("editor-error");
    expect(alert.textContent).toContain("must start with http://");
  });

  it("reports a failed test with the reason", async () => {
    state.backends.push({ ...state.backends[0], id: "vllm", base_url: "http://127.0.0.1:8000/v1", kind: "openai_chat" });
    render(Backends);
    await screen.findByText("vllm");
    const card = document.querySelector('[data-backend="vllm"]')!;
    await fireEvent.click(card.querySelector('[data-testid="test-backend"]')!);
    await waitFor(() => expect(card.textContent).toContain("connection refused"));
  });
});

describe("Mapping", () => {
  it("reorders rules and saves the profile", async () => {
    render(Mapping);
    await waitFor(() => expect(document.querySelectorAll('[data-testid="rule"]').length).toBe(2));
    const patterns = () => [...document.querySelectorAll<HTMLInputElement>('[data-field="pattern"]')].map((i) => i.value);
    expect(patterns()).toEqual(["*haiku*", "*sonnet*"]);
    const down = document.querySelector('[data-testid="rule-down"]')!;
    await fireEvent.click(down);
    expect(patterns()).toEqual(["*sonnet*", "*haiku*"]);
    await fireEvent.click(screen.getByTestId("save-mapping"));
    await waitFor(() => expect(state.profiles.local.rules.map((r) => r.pattern)).toEqual(["*sonnet*", "*haiku*"]));
  });

  it("tests a model through the gateway and shows which backend answered", async () => {
    render(Mapping);
    await screen.findByTestId("run-route-test");
    await fireEvent.click(screen.getByTestId("run-route-test"));
    const res = await screen.findByTestId("route-result");
    expect(res.textContent).toContain("ollama answered as qwen2.5-coder:7b");
  });
});

describe("Usage", () => {
  it("pages through history and filters by status", async () => {
    render(Usage);
    await screen.findByTestId("kpi-requests");
    expect(screen.getByTestId("kpi-requests").textContent).not.toBe("0");
    await fireEvent.change(screen.getByTestId("usage-status"), { target: { value: "error" } });
    await waitFor(() => {
      const rows = document.querySelectorAll('[data-testid="request-table"] tbody tr');
      expect(rows.length).toBeGreaterThan(0);
      rows.forEach((r) => expect(r.textContent).toContain("overloaded_error"));
    });
  });

  it("shows unknown costs as unknown, never $0", async () => {
    render(Usage);
    await screen.findByTestId("kpi-requests");
    const unpriced = state.rows.filter((r) => r.cost_usd === null).length;
    expect(unpriced).toBeGreaterThan(0);
    expect(screen.getByTestId("kpi-unpriced").textContent).toContain(`${unpriced} requests have no known price`);
    expect(screen.getByTestId("kpi-cost").textContent).toMatch(/^\$[\d.]+\+$/);
    // Row 8 of the seeded history is a cloud request without a price.
    await waitFor(() => expect(screen.getAllByTestId("cost-unknown").length).toBeGreaterThan(0));
    expect(screen.getAllByTestId("cost-unknown")[0].textContent).toBe("unknown");
  });

  it("filters by profile and says the text search narrows the table only", async () => {
    render(Usage);
    await screen.findByTestId("kpi-requests");
    await waitFor(() => expect(screen.getByTestId("usage-profile").querySelectorAll("option").length).toBe(3));
    await fireEvent.change(screen.getByTestId("usage-profile"), { target: { value: "cloud" } });
    const cloud = state.rows.filter((r) => r.profile === "cloud" && r.started_at_ms >= Date.now() - 7 * 86_400_000).length;
    await waitFor(() => expect(screen.getByTestId("kpi-requests").textContent).toBe(String(cloud)));
    expect(state.calls.some((c) => c.cmd === "usage_summary" && (c.args as { filter: { profile: string } }).filter.profile === "cloud")).toBe(true);
    await fireEvent.input(screen.getByTestId("usage-search"), { target: { value: "opus" } });
    expect((await screen.findByTestId("text-note")).textContent).toContain("table only");
  });

  it("exports to the path chosen in the save dialog and says how many rows", async () => {
    render(Usage);
    await screen.findByTestId("kpi-requests");
    await fireEvent.click(screen.getByTestId("export-csv"));
    await waitFor(() => expect(state.calls.some((c) => c.cmd === "export_usage_csv")).toBe(true));
    const call = state.calls.find((c) => c.cmd === "export_usage_csv")!.args as { path: string };
    expect(call.path).toBe("/home/dev/Documents/switchyard-usage-2026-11-23-0905.csv");
    await waitFor(() => expect(toasts.some((t) => /^Exported \d+ rows to \/home\/dev\/Documents\//.test(t.text))).toBe(true));
  });

  it("shows a readable error when the history cannot be read", async () => {
    clearMocks();
    install("errors");
    render(Usage);
    const alert = await screen.findByTestId("usage-error");
    expect(alert.textContent).toContain("usage database is locked");
  });
});

describe("Settings", () => {
  it("masks the token until asked and refuses privileged ports", async () => {
    render(Settings, { props: { onlanguage: () => {} } });
    const token = await screen.findByTestId("token");
    await waitFor(() => expect(token.textContent).toContain("•"));
    expect(token.textContent).not.toContain("7f3c9a1e5b2d");
    const port = document.querySelector('input[name="port"]') as HTMLInputElement;
    await fireEvent.input(port, { target: { value: "80" } });
    await fireEvent.click(screen.getByTestId("save-settings"));
    expect((await screen.findByTestId("settings-error")).textContent).toContain("between 1024 and 65535");
  });

  it("saves retention to the engine and reports what it deleted", async () => {
    render(Settings, { props: { onlanguage: () => {} } });
    const forever = (await screen.findByTestId("keep-forever")) as HTMLInputElement;
    const days = document.querySelector('input[name="retention"]') as HTMLInputElement;
    expect(forever.checked).toBe(true);
    expect(days.disabled).toBe(true);
    await fireEvent.click(forever);
    await fireEvent.input(days, { target: { value: "1" } });
    const old = state.rows.filter((r) => r.started_at_ms < Date.now() - 86_400_000).length;
    expect(old).toBeGreaterThan(0);
    await fireEvent.click(screen.getByTestId("save-settings"));
    await waitFor(() => expect(toasts.map((t) => t.text)).toContain(`Saved. Deleted ${old} requests older than 1 days.`));
    expect(state.settings.retention_days).toBe(1);
    const saved = state.calls.find((c) => c.cmd === "save_settings")!.args as { input: Record<string, unknown> };
    expect(saved.input).toEqual({ port: 4747, autostart: false, retention_days: 1, language: "system" });
  });
});
