import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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
    // Its two keys by name, the refused one marked once the gateway's states are in.
    expect(anthropic.querySelector('[data-testid="key-status"]')!.textContent).toBe("2 keys, used in turn:");
    await waitFor(() => expect([...anthropic.querySelectorAll('[data-testid="key-chip"]')].map((c) => c.textContent)).toEqual(["default", "team · refused"]));
    expect(anthropic.textContent).toContain("Cloud");
    expect(document.querySelector('[data-backend="llamacpp"] [data-testid="key-status"]')!.textContent).toBe("No key");
    expect(document.body.innerHTML).not.toContain("sk-ant-seeded");
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

  it("adds Claude on Vertex with a region and a project instead of a URL", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    await fireEvent.click(screen.getByTestId("add-backend"));
    // Bedrock's preset asks for a region, not a project; Vertex's for both.
    await fireEvent.click(document.querySelector('[data-preset="bedrock"]')!);
    expect((document.querySelector('input[name="region"]') as HTMLInputElement).value).toBe("us-east-1");
    expect(document.querySelector('input[name="project"]')).toBeNull();
    await fireEvent.click(document.querySelector('[data-preset="vertex"]')!);
    const url = document.querySelector('input[name="base_url"]') as HTMLInputElement;
    expect(url.value).toBe("");
    expect(url.required).toBe(false);
    expect(document.querySelector('[data-testid="backend-editor"]')?.textContent).toContain("service account");
    const project = document.querySelector('input[name="project"]') as HTMLInputElement;
    await fireEvent.input(project, { target: { value: "my-gcp-project" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    await waitFor(() => expect(state.backends.some((b) => b.id === "vertex")).toBe(true));
    const saved = state.backends.find((b) => b.id === "vertex")!;
    expect([saved.kind, saved.base_url, saved.region, saved.project, saved.local]).toEqual(["vertex", "", "us-east5", "my-gcp-project", false]);
  });

  it("shows the engine's rule under the field at fault and clears it once the field is edited", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    await fireEvent.click(screen.getByTestId("add-backend"));
    await fireEvent.input(document.querySelector('input[name="id"]')!, { target: { value: "my-vllm" } });
    const url = document.querySelector('input[name="base_url"]') as HTMLInputElement;
    await fireEvent.input(url, { target: { value: "127.0.0.1:9999" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    const error = await screen.findByTestId("field-error-base_url");
    expect(error.textContent).toContain("starts with http://");
    // Under its field, tied to the input for screen readers; no generic error above the buttons.
    expect(url.closest("label")!.contains(error)).toBe(true);
    expect(url.getAttribute("aria-describedby")).toBe(error.id);
    expect(screen.queryByTestId("editor-error")).toBeNull();
    await fireEvent.input(url, { target: { value: "http://127.0.0.1:9999" } });
    expect(screen.queryByTestId("field-error-base_url")).toBeNull();
    expect(url.getAttribute("aria-invalid")).toBe("false");
  });

  it("reports a failed test in one sentence, with the raw answer behind a Details toggle", async () => {
    state.backends.push({ ...state.backends[2], id: "zai", base_url: "https://api.z.ai/api/anthropic", key: "none" });
    render(Backends);
    await screen.findByText("zai");
    const card = document.querySelector('[data-backend="zai"]')!;
    const dot = card.querySelector('[data-testid="health"]')!;
    expect(dot.getAttribute("data-health")).toBe("unknown");
    expect(dot.getAttribute("aria-label")).toBe("Not tested yet");
    await fireEvent.click(card.querySelector('[data-testid="test-backend"]')!);
    await waitFor(() => expect(card.querySelector('[data-testid="test-sentence"]')).not.toBeNull());
    const sentence = card.querySelector('[data-testid="test-sentence"]')!;
    expect(sentence.textContent).toContain("zai needs a key: add one in the backend's settings");
    expect(card.textContent).not.toContain("authentication_error");
    expect(dot.getAttribute("data-health")).toBe("failed");
    expect(dot.getAttribute("aria-label")).toBe("Failing");
    const toggle = card.querySelector('[data-testid="toggle-details"]') as HTMLButtonElement;
    expect(toggle.tagName).toBe("BUTTON");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    await fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    const detail = card.querySelector('[data-testid="test-detail"]')!;
    expect(detail.textContent).toContain("HTTP 401");
    expect(detail.textContent).toContain("authentication_error");
  });

  it("says a stopped local server is not running at its URL", async () => {
    state.backends.push({ ...state.backends[0], id: "vllm", base_url: "http://127.0.0.1:8000/v1", kind: "openai_chat" });
    render(Backends);
    await screen.findByText("vllm");
    const card = document.querySelector('[data-backend="vllm"]')!;
    await fireEvent.click(card.querySelector('[data-testid="test-backend"]')!);
    await waitFor(() => expect(card.querySelector('[data-testid="test-sentence"]')?.textContent).toContain("vllm is not running at http://127.0.0.1:8000/v1"));
  });

  it("deleting a used backend lists the rules using it and re-points them, in an in-app dialog", async () => {
    const confirmSpy = vi.spyOn(window, "confirm").mockReturnValue(true);
    render(Backends);
    await screen.findByText("anthropic");
    const card = document.querySelector('[data-backend="anthropic"]')!;
    await fireEvent.click(card.querySelector('[data-testid="delete-backend"]')!);
    const dialog = await screen.findByTestId("delete-dialog");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.getElementById(dialog.getAttribute("aria-labelledby")!)?.textContent).toBe("Delete anthropic?");
    const listed = [...dialog.querySelectorAll('[data-testid="dependents"] li')].map((li) => li.textContent);
    expect(listed).toEqual(["cloud · default route · target", "local · rule *haiku* · fallback"]);
    await fireEvent.click(screen.getByTestId("choice-repoint"));
    await fireEvent.change(screen.getByTestId("repoint-to"), { target: { value: "llamacpp" } });
    await fireEvent.click(screen.getByTestId("confirm-delete"));
    await waitFor(() => expect(state.backends.map((b) => b.id)).toEqual(["ollama", "llamacpp"]));
    expect(state.profiles.cloud.default!.targets[0].backend).toBe("llamacpp");
    expect(state.profiles.local.rules[0].route.fallbacks[0].backend).toBe("llamacpp");
    expect(state.calls.find((c) => c.cmd === "delete_backend")!.args).toEqual({ id: "anthropic", mode: { repoint_to: "llamacpp" } });
    await waitFor(() => expect(screen.queryByTestId("delete-dialog")).toBeNull());
    expect(toasts.map((t) => t.text)).toContain("Deleted anthropic; its rules now use llamacpp");
    expect(confirmSpy).not.toHaveBeenCalled();
    confirmSpy.mockRestore();
  });

  it("can remove a deleted backend from its rules instead, and Escape cancels the dialog", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    const card = document.querySelector('[data-backend="llamacpp"]')!;
    await fireEvent.click(card.querySelector('[data-testid="delete-backend"]')!);
    let dialog = await screen.findByTestId("delete-dialog");
    // Focus moves into the dialog; Escape closes it without deleting anything.
    expect(dialog.contains(document.activeElement)).toBe(true);
    await fireEvent.keyDown(dialog, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("delete-dialog")).toBeNull());
    expect(state.backends.some((b) => b.id === "llamacpp")).toBe(true);

    await fireEvent.click(card.querySelector('[data-testid="delete-backend"]')!);
    dialog = await screen.findByTestId("delete-dialog");
    expect((screen.getByTestId("choice-remove") as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(screen.getByTestId("confirm-delete"));
    await waitFor(() => expect(state.backends.some((b) => b.id === "llamacpp")).toBe(false));
    // The *haiku* rule keeps its fallback, now its only target.
    expect(state.profiles.local.rules[0].route.targets.map((t) => t.backend)).toEqual(["anthropic"]);
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
    // The rule, under the field, as soon as it is broken; nothing is sent.
    expect((await screen.findByTestId("port-error")).textContent).toBe("Port must be 1024–65535.");
    expect(port.getAttribute("aria-invalid")).toBe("true");
    await fireEvent.click(screen.getByTestId("save-settings"));
    expect(state.calls.some((c) => c.cmd === "save_settings")).toBe(false);
    // Fixed: the message goes.
    await fireEvent.input(port, { target: { value: "4800" } });
    await waitFor(() => expect(screen.queryByTestId("port-error")).toBeNull());
  });

  it("applies the chosen theme to the window", async () => {
    render(Settings, { props: { onlanguage: () => {} } });
    const theme = (await screen.findByTestId("theme")) as HTMLSelectElement;
    await fireEvent.change(theme, { target: { value: "dark" } });
    await fireEvent.click(screen.getByTestId("save-settings"));
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe("dark"));
    expect(state.settings.theme).toBe("dark");
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
    expect(saved.input).toEqual({ port: 4747, autostart: false, retention_days: 1, language: "system", theme: "system" });
  });
});
