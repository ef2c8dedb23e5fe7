import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import { toasts } from "../lib/toast.svelte";
import Overview from "./Overview.svelte";

let state: FakeState;
function install(scenario: Parameters<typeof createState>[0] = "empty") {
  state = createState(scenario);
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
}
const show = () => render(Overview, { props: { status: null, onnavigate: () => {} } });

beforeEach(() => {
  toasts.splice(0, toasts.length);
  localStorage.clear();
  sessionStorage.clear();
});
afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Setup checklist", () => {
  it("adds a found engine in one click and says under which id", async () => {
    install();
    show();
    const list = await screen.findByTestId("setup-checklist");
    const engine = await within(list).findByTestId("found-engine");
    expect(engine.textContent).toContain("qwen2.5-coder:14b");
    await fireEvent.click(within(engine).getByTestId("add-engine"));
    expect((await within(engine).findByTestId("engine-added")).textContent).toBe("Added as ollama");
    expect(state.backends.map((b) => [b.id, b.kind, b.base_url])).toEqual([["ollama", "ollama", "http://127.0.0.1:11500"]]);
    expect(state.calls.filter((c) => c.cmd === "add_found_engine")).toHaveLength(1);
    // The health line checks the new backend too.
    await waitFor(() => expect(screen.getByTestId("health-ollama").textContent).toBe("ollama · working"));
  });

  it("prefills opus, sonnet and haiku with the engine's suggestion and applies them", async () => {
    install();
    show();
    await fireEvent.click(await screen.findByTestId("add-engine"));
    const sonnet = (await screen.findByTestId("map-sonnet")) as HTMLSelectElement;
    await waitFor(() => expect(sonnet.value).toBe("qwen2.5-coder:14b"));
    expect((screen.getByTestId("map-opus") as HTMLSelectElement).value).toBe("qwen2.5-coder:14b");
    expect((screen.getByTestId("map-haiku") as HTMLSelectElement).value).toBe("qwen2.5-coder:1.5b");
    await fireEvent.click(screen.getByTestId("map-apply"));
    await waitFor(() => expect(state.profiles.local.rules.map((r) => r.pattern)).toEqual(["*opus*", "*sonnet*", "*haiku*"]));
    expect(state.profiles.local.rules[2].route.targets).toEqual([{ backend: "ollama", model: "qwen2.5-coder:1.5b", weight: null }]);
    await waitFor(() => expect(screen.getByTestId("setup-step-map").classList.contains("done")).toBe(true));
  });

  it("goes away once the four steps are done, and stays away on the next start", async () => {
    install();
    show();
    await fireEvent.click(await screen.findByTestId("add-engine"));
    await fireEvent.click(await screen.findByTestId("map-apply"));
    await fireEvent.click(await screen.findByTestId("setup-configure"));
    await waitFor(() => expect(state.claudeConfigured).toBe(true));
    expect(screen.getByTestId("setup-checklist")).toBeTruthy();
    await fireEvent.click(screen.getByTestId("setup-test"));
    await waitFor(() => expect(screen.queryByTestId("setup-checklist")).toBeNull());
    expect(toasts.map((t) => t.text)).toContain("The test request reached ollama (qwen2.5-coder:14b) and was answered in 312 ms.");
    expect(toasts.map((t) => t.text)).toContain("Setup is complete: Claude Code now runs through Switchyard.");
    cleanup();
    state.firstRun = false;
    show();
    await screen.findByTestId("claude-card");
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
  });

  it("stays hidden once the user hides it, and is not shown when nothing is pending", async () => {
    install();
    show();
    await fireEvent.click(await screen.findByTestId("setup-hide"));
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
    cleanup();
    show();
    await screen.findByTestId("claude-card");
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
  });

  it("names the ports it tried when no engine answers", async () => {
    install();
    state.found = [];
    show();
    const none = await screen.findByTestId("setup-none-found");
    expect(none.textContent).toContain("No engine answered at http://127.0.0.1:11434, http://127.0.0.1:1234");
    expect(none.textContent).toContain("add it by hand on the Backends screen");
  });
});

describe("Overview: always says what is set up", () => {
  it("shows whether Claude Code is set up and a health dot per backend", async () => {
    install("default");
    state.backends[2].key = "none";
    show();
    expect((await screen.findByTestId("claude-badge")).textContent).toBe("Not set up");
    await waitFor(() => expect(screen.getByTestId("health-ollama").textContent).toBe("ollama · working"));
    expect(screen.getByTestId("health-ollama").classList.contains("ok")).toBe(true);
    await waitFor(() => expect(screen.getByTestId("health-anthropic").textContent).toBe("anthropic · needs a key"));
    expect(screen.getByTestId("health-anthropic").classList.contains("err")).toBe(true);
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
    await fireEvent.click(screen.getByTestId("configure-claude"));
    await waitFor(() => expect(screen.getByTestId("claude-badge").textContent).toBe("Set up"));
  });
});
