// Installs the fake engine behind Tauri's IPC for Playwright runs against `vite preview`.
// Built separately (vite.mocks.config.ts) and injected with page.addInitScript before the app.
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { createState, handle, newRow, statusOf, type Scenario } from "./fake-engine";

declare global {
  interface Window {
    __SY_SCENARIO?: Scenario;
    /** Commands to fail, overriding the scenario's choice. */
    __SY_FAIL?: string[];
    __SY_MOCK?: unknown;
  }
}

const state = createState(window.__SY_SCENARIO ?? "default", Date.now(), window.__SY_FAIL);
mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });

window.__SY_MOCK = {
  state,
  /** Simulates a request finishing in the gateway: the live event, then the one that says
   *  the usage database has it. */
  async pushRequest(model = "claude-sonnet-4-5", backend = "ollama") {
    const row = newRow(state, { requested_model: model, backend, upstream_model: "qwen2.5-coder:7b", local: true, cost_usd: 0 });
    await emit("request-finished", { row: { ...row, id: null } });
    await emit("usage-changed", { status: statusOf(state) });
    return row;
  },
};
