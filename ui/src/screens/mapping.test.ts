import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import type { ProfileView } from "../bindings";
import Mapping from "./Mapping.svelte";

let state: FakeState;
beforeEach(() => {
  state = createState("default");
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
});
afterEach(() => {
  cleanup();
  clearMocks();
  vi.restoreAllMocks();
});

async function ready() {
  render(Mapping);
  await screen.findAllByTestId("rule");
}

function patternInputs(): HTMLInputElement[] {
  return [...document.querySelectorAll<HTMLInputElement>('input[data-field="pattern"]')];
}

describe("Mapping", () => {
  it("asks before a tab switch would throw unsaved edits away", async () => {
    await ready();
    await fireEvent.input(patternInputs()[0], { target: { value: "*haiku-4*" } });
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    // Still on the edited profile, with the question asked.
    const dialog = await screen.findByTestId("unsaved-dialog");
    expect(dialog.textContent).toContain("the local profile");
    expect(patternInputs()[0].value).toBe("*haiku-4*");
    // Keep editing: nothing lost.
    await fireEvent.click(screen.getByTestId("unsaved-keep"));
    expect(screen.queryByTestId("unsaved-dialog")).toBeNull();
    expect(patternInputs()[0].value).toBe("*haiku-4*");
    // Save and switch: the edit reaches the engine, then the other tab opens.
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    await fireEvent.click(await screen.findByTestId("unsaved-save"));
    await waitFor(() => expect(document.querySelector('[data-profile="cloud"]')!.getAttribute("aria-selected")).toBe("true"));
    expect(state.profiles.local.rules[0].pattern).toBe("*haiku-4*");
  });

  it("shows target order as priority, and balancing only when asked for, with weights", async () => {
    await ready();
    const first = screen.getAllByTestId("rule")[0];
    const ordered = first.querySelector('[data-strategy="ordered"]')!;
    expect(ordered.getAttribute("aria-checked")).toBe("true");
    expect(first.textContent).toContain("The first target that answers wins");
    expect(first.querySelector('input[data-field="weight"]')).toBeNull();

    await fireEvent.click(first.querySelector('[data-strategy="weighted"]')!);
    const weight = first.querySelector('input[data-field="weight"]') as HTMLInputElement;
    expect(weight).not.toBeNull();
    await fireEvent.input(weight, { target: { value: "3" } });
    await fireEvent.click(screen.getByTestId("save-mapping"));
    await waitFor(() => expect(state.calls.some((c) => c.cmd === "save_profile")).toBe(true));
    const sent = (state.calls.find((c) => c.cmd === "save_profile")!.args as { profile: ProfileView }).profile;
    expect(sent.rules[0].route.strategy).toBe("weighted");
    expect(sent.rules[0].route.targets[0].weight).toBe(3);
  });

  it("creates a profile in an in-app dialog, with the rule under the field", async () => {
    const prompt = vi.spyOn(window, "prompt");
    await ready();
    await fireEvent.click(screen.getByTestId("new-profile"));
    const dialog = await screen.findByTestId("new-profile-dialog");
    const name = dialog.querySelector('input[name="profile-name"]') as HTMLInputElement;
    await fireEvent.input(name, { target: { value: "has space" } });
    await fireEvent.click(screen.getByTestId("create-profile"));
    expect((await screen.findByTestId("profile-name-error")).textContent).toContain("letters, digits");
    await fireEvent.input(name, { target: { value: "work" } });
    expect(screen.queryByTestId("profile-name-error")).toBeNull();
    await fireEvent.click(screen.getByTestId("create-profile"));
    await waitFor(() => expect(document.querySelector('[data-profile="work"]')?.getAttribute("aria-selected")).toBe("true"));
    expect(state.profiles.work).toEqual({ rules: [], default: null });
    expect(prompt).not.toHaveBeenCalled();
  });

  it("says a conditional rule's conditions in words and keeps them through a save", async () => {
    state.profiles.local.rules.unshift({
      pattern: "*",
      when: { images: true, agent: "subagent", min_prompt_tokens: 20000 },
      route: { strategy: "ordered", targets: [{ backend: "ollama", model: "qwen2.5vl:7b", weight: null }], fallbacks: [] },
    });
    await ready();
    const badge = screen.getAllByTestId("rule")[0].querySelector('[data-testid="rule-when"]')!;
    expect(badge.textContent).toBe("has images · prompt ≥ 20,000 tokens · from a subagent");
    await fireEvent.input(patternInputs()[1], { target: { value: "*haiku-4*" } });
    await fireEvent.click(screen.getByTestId("save-mapping"));
    await waitFor(() => expect(state.profiles.local.rules[1].pattern).toBe("*haiku-4*"));
    expect(state.profiles.local.rules[0].when).toEqual({ images: true, agent: "subagent", min_prompt_tokens: 20000 });
  });

  it("copies the env of a terminal that always uses the profile on screen", async () => {
    await ready();
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    await waitFor(() => expect(document.querySelector('[data-profile="cloud"]')!.getAttribute("aria-selected")).toBe("true"));
    await fireEvent.click(screen.getByTestId("copy-profile-env"));
    await waitFor(() => expect(state.copied).toContain("/profiles/cloud"));
  });
});
