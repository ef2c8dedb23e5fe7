import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import { toasts } from "../lib/toast.svelte";
import Overview from "./Overview.svelte";

let state: FakeState;
function install(scenario: Parameters<typeof createState>[0] = "default") {
  state = createState(scenario);
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
}

beforeEach(() => {
  toasts.splice(0, toasts.length);
});
afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Overview: Claude Code card", () => {
  it("says what Configure did, and that it blanked the user's API key", async () => {
    install("errors");
    state.fail.clear();
    render(Overview, { props: { status: null, onnavigate: () => {} } });
    await fireEvent.click(await screen.findByTestId("configure-claude"));
    await waitFor(() => expect(toasts.map((t) => t.text)).toContain("Claude Code now sends its requests to Switchyard."));
    expect(toasts.some((t) => t.text.includes("ANTHROPIC_API_KEY") && t.text.includes("backup keeps your key"))).toBe(true);
  });

  it("says which variables Restore put back", async () => {
    install();
    render(Overview, { props: { status: null, onnavigate: () => {} } });
    await fireEvent.click(await screen.findByTestId("configure-claude"));
    const restore = await screen.findByRole("button", { name: "Restore backup" });
    await fireEvent.click(restore);
    await waitFor(() =>
      expect(toasts.map((t) => t.text)).toContain(
        "Switchyard's changes to Claude Code's settings are undone: ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN restored; your other settings are untouched.",
      ),
    );
    expect(toasts.some((t) => t.text.includes("so your values were kept"))).toBe(false);
  });

  it("says which of Switchyard's variables Restore left as the user changed them", async () => {
    install("errors");
    state.fail.clear();
    render(Overview, { props: { status: null, onnavigate: () => {} } });
    await fireEvent.click(await screen.findByTestId("configure-claude"));
    await fireEvent.click(await screen.findByRole("button", { name: "Restore backup" }));
    await waitFor(() =>
      expect(toasts.map((t) => t.text)).toContain("You changed API_TIMEOUT_MS after Switchyard set them, so your values were kept."),
    );
  });

  it("words conflicts for people, never with the engine's internal names", async () => {
    install("errors");
    state.fail.clear();
    render(Overview, { props: { status: null, onnavigate: () => {} } });
    const box = await screen.findByTestId("conflicts");
    expect(box.textContent).toContain("An ANTHROPIC_API_KEY would be sent instead of the gateway token.");
    expect(box.textContent).not.toMatch(/ApiKeySet|api_key_set/);
  });
});

describe("Overview: usage history warning", () => {
  it("says when requests are routed but not recorded, and says nothing when all is well", async () => {
    install();
    const { unmount } = render(Overview, { props: { status: null, onnavigate: () => {} } });
    await screen.findByTestId("gateway-card");
    expect(screen.queryByTestId("usage-warning")).toBeNull();
    unmount();
    state.usageWarning = "Requests are not being recorded in the usage history: disk full (a full disk?). Routing is not affected.";
    render(Overview, { props: { status: null, onnavigate: () => {} } });
    const warning = await screen.findByTestId("usage-warning");
    expect(warning.textContent).toContain("The usage history needs attention");
    expect(warning.textContent).toContain("Routing is not affected.");
  });
});
