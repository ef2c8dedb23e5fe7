import { afterEach, beforeEach, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import type { BackendDraft } from "../bindings";
import Backends from "./Backends.svelte";

let state: FakeState;
beforeEach(() => {
  state = createState("default");
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
});
afterEach(() => {
  cleanup();
  clearMocks();
});

it("lets a loopback proxy to a cloud provider say it is a cloud service", async () => {
  render(Backends);
  await screen.findByText("llamacpp");
  const card = document.querySelector('[data-backend="llamacpp"]')!;
  expect(card.textContent).toContain("Local");
  const edit = [...card.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Edit")!;
  await fireEvent.click(edit);
  const runsOn = (await screen.findByTestId("runs-on")) as HTMLSelectElement;
  expect(runsOn.value).toBe("auto");
  await fireEvent.change(runsOn, { target: { value: "cloud" } });
  await fireEvent.click(screen.getByTestId("save-backend"));
  await waitFor(() => expect(state.calls.some((c) => c.cmd === "save_backend")).toBe(true));
  const draft = (state.calls.find((c) => c.cmd === "save_backend")!.args as { draft: BackendDraft }).draft;
  expect(draft.local).toBe(false);
  await waitFor(() => expect(document.querySelector('[data-backend="llamacpp"]')!.textContent).toContain("Cloud"));
});
