import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import type { ProfileView } from "../bindings";
import Mapping from "./Mapping.svelte";
import { toasts } from "../lib/toast.svelte";

let state: FakeState;
beforeEach(() => {
  state = createState("default");
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
});
afterEach(() => {
  toasts.splice(0, toasts.length);
  cleanup();
  clearMocks();
  vi.restoreAllMocks();
});

async function ready() {
  render(Mapping);
  await screen.findAllByTestId("rule");
}

/** Picks an option in a select the way a person does (the change event follows). */
async function choose(select: Element, value: string) {
  await fireEvent.change(select, { target: { value } });
}

/** A rule's conditions as they read on screen. */
function conditionTexts(rule: Element): string[] {
  return [...rule.querySelectorAll("[data-condition]")].map((c) => {
    const select = c.querySelector("select");
    if (select) return select.selectedOptions[0].textContent!.trim();
    const label = c.querySelector("label")!;
    return [...label.childNodes].map((n) => (n instanceof HTMLInputElement ? n.value : n.textContent!.trim())).filter(Boolean).join(" ");
  });
}

/** The profile the `nth` save sent, once Save is clicked. */
async function saved(nth = 1): Promise<ProfileView> {
  await fireEvent.click(screen.getByTestId("save-mapping"));
  await waitFor(() => expect(state.calls.filter((c) => c.cmd === "save_profile")).toHaveLength(nth));
  return (state.calls.filter((c) => c.cmd === "save_profile")[nth - 1].args as { profile: ProfileView }).profile;
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

  it("says a conditional rule's conditions in words, lists it first and keeps it through a save", async () => {
    // In the file after a name rule: still shown (and numbered) first, as the engine tries it.
    state.profiles.local.rules.push({
      pattern: "*",
      when: { images: true, agent: "subagent", min_prompt_tokens: 20000 },
      route: { strategy: "ordered", targets: [{ backend: "ollama", model: "qwen2.5vl:7b", weight: null }], fallbacks: [] },
    });
    await ready();
    const first = screen.getAllByTestId("rule")[0];
    expect(screen.getByTestId("conditional-rules").textContent).toContain("Tried first");
    expect(conditionTexts(first)).toEqual(["has images", "prompt ≥ 20000 tokens", "from a subagent"]);
    expect(first.textContent).toContain("Only when");
    // Nothing to save yet: listing it first is not an edit.
    expect(screen.getByTestId("save-mapping").hasAttribute("disabled")).toBe(true);
    await fireEvent.input(patternInputs()[1], { target: { value: "*haiku-4*" } });
    const sent = await saved();
    expect(sent.rules.map((r) => r.pattern)).toEqual(["*", "*haiku-4*", "*sonnet*"]);
    expect(sent.rules[0].when).toEqual({ images: true, agent: "subagent", min_prompt_tokens: 20000 });
    expect(state.profiles.local.rules[0].when).toEqual({ images: true, agent: "subagent", min_prompt_tokens: 20000 });
  });

  it("adds a condition to a rule: it becomes conditional, moves first, and the save sends `when`", async () => {
    await ready();
    const sonnet = screen.getAllByTestId("rule")[1];
    expect(patternInputs()[1].value).toBe("*sonnet*");
    await choose(sonnet.querySelector('[data-testid="add-condition"]')!, "thinking:true");
    // Tried before the name rules now, so listed before them.
    await waitFor(() => expect(patternInputs()[0].value).toBe("*sonnet*"));
    const moved = screen.getAllByTestId("rule")[0];
    expect(conditionTexts(moved)).toEqual(["thinking on"]);
    expect(document.activeElement).toBe(moved.querySelector('[data-condition="thinking"] select'));
    // The other polarity, in words, then a second condition.
    await choose(moved.querySelector('[data-condition="thinking"] select')!, "thinking:false");
    await choose(moved.querySelector('[data-testid="add-condition"]')!, "server_tools:true");
    expect(conditionTexts(moved)).toEqual(["uses web search or other server tools", "thinking off"]);
    const sent = await saved();
    expect(sent.rules[0]).toMatchObject({ pattern: "*sonnet*", when: { thinking: false, server_tools: true } });
    expect(sent.rules[1]).toMatchObject({ pattern: "*haiku*", when: null });
  });

  it("removing a rule's last condition makes it a name rule again, saved with no condition", async () => {
    state.profiles.local.rules.unshift({
      pattern: "*",
      when: { thinking: true, agent: "main" },
      route: { strategy: "ordered", targets: [{ backend: "anthropic", model: null, weight: null }], fallbacks: [] },
    });
    await ready();
    const rule = screen.getAllByTestId("rule")[0];
    await fireEvent.click(rule.querySelector('[data-condition="thinking"] [data-testid="remove-condition"]')!);
    expect(conditionTexts(screen.getAllByTestId("rule")[0])).toEqual(["from the main agent"]);
    await fireEvent.click(screen.getAllByTestId("rule")[0].querySelector('[data-testid="remove-condition"]')!);
    // First among the name rules, which are all that is left.
    await waitFor(() => expect(screen.queryByTestId("conditional-rules")).toBeNull());
    expect(patternInputs().map((x) => x.value)).toEqual(["*", "*haiku*", "*sonnet*"]);
    const sent = await saved();
    expect(sent.rules[0].pattern).toBe("*");
    expect(sent.rules[0].when).toBeNull();
    expect(sent.rules.every((r) => r.when == null)).toBe(true);
  });

  it("adds a conditional rule for any model with the chosen condition", async () => {
    await ready();
    await choose(screen.getByTestId("add-conditional-rule"), "images:true");
    const rules = screen.getAllByTestId("rule");
    expect(rules).toHaveLength(3);
    expect(patternInputs()[0].value).toBe("*");
    expect((rules[0].querySelector("select") as HTMLSelectElement).value).toBe("mapping.family.any");
    expect(conditionTexts(rules[0])).toEqual(["has images"]);
    await choose(rules[0].querySelector('[data-field="backend"]')!, "anthropic");
    const sent = await saved();
    expect(sent.rules[0]).toEqual({
      pattern: "*", when: { images: true },
      route: { strategy: "ordered", targets: [{ backend: "anthropic", model: null, weight: null }], fallbacks: [] },
    });
  });

  it("keeps a prompt size that is not a count on screen, says why in a sentence and does not save it", async () => {
    await ready();
    await choose(screen.getByTestId("add-conditional-rule"), "min_prompt_tokens");
    const input = screen.getAllByTestId("rule")[0].querySelector<HTMLInputElement>('[data-field="min-tokens"]')!;
    expect(input.value).toBe("32000");
    expect(document.activeElement).toBe(input);
    for (const bad of ["abc", "0", "1.5", "-3", ""]) {
      await fireEvent.input(input, { target: { value: bad } });
      expect(screen.getByTestId("min-tokens-error").textContent).toBe("Type the prompt size as a whole number of tokens, 1 or more, for example 32000.");
      expect(input.getAttribute("aria-invalid")).toBe("true");
    }
    expect(input.value).toBe("");
    await fireEvent.click(screen.getByTestId("save-mapping"));
    expect(screen.getByTestId("mapping-error").textContent).toContain("not a whole number of tokens");
    expect(state.calls.some((c) => c.cmd === "save_profile")).toBe(false);
    // Written with a separator: kept as typed, saved as a number.
    await fireEvent.input(input, { target: { value: "20,000" } });
    expect(screen.queryByTestId("min-tokens-error")).toBeNull();
    expect(input.value).toBe("20,000");
    const sent = await saved();
    expect(sent.rules[0].when).toEqual({ min_prompt_tokens: 20000 });
  });

  it("an invalid prompt size counts as unsaved: leaving the profile asks first", async () => {
    state.profiles.local.rules.unshift({
      pattern: "*", when: { min_prompt_tokens: 50000 },
      route: { strategy: "ordered", targets: [{ backend: "anthropic", model: null, weight: null }], fallbacks: [] },
    });
    await ready();
    const input = document.querySelector<HTMLInputElement>('[data-field="min-tokens"]')!;
    await fireEvent.input(input, { target: { value: "lots" } });
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    await screen.findByTestId("unsaved-dialog");
    await fireEvent.click(screen.getByTestId("unsaved-keep"));
    expect(document.querySelector<HTMLInputElement>('[data-field="min-tokens"]')!.value).toBe("lots");
  });

  it("keeps moves within a group: a conditional rule never goes below a name rule", async () => {
    state.profiles.local.rules.unshift({
      pattern: "*", when: { images: true },
      route: { strategy: "ordered", targets: [{ backend: "ollama", model: null, weight: null }], fallbacks: [] },
    });
    await ready();
    const [cond, haiku, sonnet] = screen.getAllByTestId("rule");
    expect(cond.querySelector<HTMLButtonElement>('[data-testid="rule-down"]')!.disabled).toBe(true);
    expect(haiku.querySelector<HTMLButtonElement>('[data-testid="rule-up"]')!.disabled).toBe(true);
    expect(haiku.querySelector<HTMLButtonElement>('[data-testid="rule-down"]')!.disabled).toBe(false);
    expect(sonnet.querySelector<HTMLButtonElement>('[data-testid="rule-up"]')!.disabled).toBe(false);
  });

  it("round-trips a target's image flag: not set, yes, no", async () => {
    await ready();
    const vision = () => screen.getAllByTestId("rule")[0].querySelector<HTMLSelectElement>('[data-testid="targets"] [data-field="vision"]')!;
    expect(vision().value).toBe("");
    expect([...vision().options].map((o) => [o.textContent, o.getAttribute("aria-label")])).toEqual([
      ["Images ?", "Reads images: not set"],
      ["Images ✓", "Reads images: yes"],
      ["Images ✗", "Reads images: no, so requests with images skip it"],
    ]);
    await choose(vision(), "false");
    let sent = await saved();
    expect(sent.rules[0].route.targets[0].vision).toBe(false);
    expect(state.profiles.local.rules[0].route.targets[0].vision).toBe(false);
    // Shown again from what the engine keeps.
    cleanup();
    await ready();
    expect(vision().value).toBe("false");
    await choose(vision(), "true");
    sent = await saved(2);
    expect(sent.rules[0].route.targets[0].vision).toBe(true);
    await choose(vision(), "");
    sent = await saved(3);
    expect("vision" in sent.rules[0].route.targets[0]).toBe(false);
    expect("vision" in state.profiles.local.rules[0].route.targets[0]).toBe(false);
    // Back to where it started: nothing to save.
    await choose(vision(), "false");
    await choose(vision(), "");
    expect(screen.getByTestId("save-mapping").hasAttribute("disabled")).toBe(true);
  });

  it("shows the profile's base URL and copies it", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await ready();
    await waitFor(() => expect(screen.getByTestId("profile-url").textContent).toBe("http://127.0.0.1:4747/profiles/local"));
    await fireEvent.click(screen.getByTestId("copy-profile-url"));
    expect(writeText).toHaveBeenCalledWith("http://127.0.0.1:4747/profiles/local");
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    await waitFor(() => expect(screen.getByTestId("profile-url").textContent).toBe("http://127.0.0.1:4747/profiles/cloud"));
  });

  it("copies the env of a terminal that always uses the profile on screen", async () => {
    await ready();
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    await waitFor(() => expect(document.querySelector('[data-profile="cloud"]')!.getAttribute("aria-selected")).toBe("true"));
    await fireEvent.click(screen.getByTestId("copy-profile-env"));
    await waitFor(() => expect(state.copied).toContain("/profiles/cloud"));
  });

  it("points a project folder at the profile on screen, says where and what it did, and undoes it", async () => {
    await ready();
    await fireEvent.click(document.querySelector('[data-profile="cloud"]')!);
    await waitFor(() => expect(document.querySelector('[data-profile="cloud"]')!.getAttribute("aria-selected")).toBe("true"));
    await fireEvent.click(screen.getByTestId("configure-project"));
    await waitFor(() => expect(state.projectFolders["/home/dev/src/webshop"]).toBe("cloud"));
    await waitFor(() => expect(toasts.map((t) => t.text).join(" ")).toContain("Claude Code started in /home/dev/src/webshop now uses “cloud”"));
    expect(toasts.some((t) => t.text.includes(".git/info/exclude"))).toBe(true);
    // Again: nothing changes, and it says so.
    await fireEvent.click(screen.getByTestId("configure-project"));
    await waitFor(() => expect(toasts.some((t) => t.text.includes("already uses “cloud”; nothing changed"))).toBe(true));
    await fireEvent.click(screen.getByTestId("restore-project"));
    await waitFor(() => expect(state.projectFolders["/home/dev/src/webshop"]).toBeUndefined());
    await waitFor(() => expect(toasts.some((t) => t.text.startsWith("Undid Switchyard's changes to /home/dev/src/webshop/.claude/settings.local.json"))).toBe(true));
  });

  it("does nothing when the folder dialog is cancelled", async () => {
    state.chosenFolder = null;
    await ready();
    await fireEvent.click(screen.getByTestId("configure-project"));
    await waitFor(() => expect(state.calls.some((c) => c.cmd === "choose_project_folder")).toBe(true));
    await new Promise((r) => setTimeout(r, 20));
    expect(state.calls.some((c) => c.cmd === "configure_project_folder")).toBe(false);
    expect(toasts).toHaveLength(0);
  });

  it("balances a route by a strategy said in words, and saves it", async () => {
    await ready();
    const rule = screen.getAllByTestId("rule")[0];
    await fireEvent.click(rule.querySelector('[data-strategy="balanced"]')!);
    const by = rule.querySelector<HTMLSelectElement>('[data-testid="balance-by"]')!;
    expect(by.value).toBe("least_busy");
    expect(rule.querySelector('[data-testid="strategy-help"]')!.textContent).toContain("fewest requests running goes first");
    await choose(by, "lowest_latency");
    expect(rule.querySelector('[data-testid="strategy-help"]')!.textContent).toContain("answering fastest goes first");
    const profile = await saved();
    const route = profile.rules.find((r) => r.pattern === rule.querySelector<HTMLInputElement>('input[data-field="pattern"]')!.value)!.route;
    expect(route.strategy).toBe("lowest_latency");
    expect(route.targets.every((x) => x.weight == null)).toBe(true);
  });

  it("says which targets are cooling down or at their limit, and a backend's load", async () => {
    const soon = Date.now() + 42_000;
    const backend = state.profiles.local.default!.targets[0].backend;
    state.states[backend] = {
      backend, cooling_until_ms: null, limited_until_ms: soon, requests_last_minute: 60, rpm: 60,
      tokens_last_minute: null, tpm: null, in_flight: 2, keys: [],
    };
    await ready();
    const lines = await screen.findAllByTestId("target-state");
    expect(lines.some((l) => l.textContent!.startsWith("At its rate limit until") && l.classList.contains("warn"))).toBe(true);
    state.states[backend] = { ...state.states[backend], limited_until_ms: null, requests_last_minute: 12 };
    cleanup();
    await ready();
    await waitFor(() => expect(screen.getAllByTestId("target-state").some((l) => l.textContent === "12 of 60 requests this minute · 2 running")).toBe(true));
  });

  it("says a key pool's trouble on the targets it concerns, above the backend's load", async () => {
    // Seeded: anthropic (the *haiku* rule's fallback, rpm 50, tpm 200000) has two keys, "team" refused.
    await ready();
    const line = () => screen.getAllByTestId("fallbacks")[0].querySelector('[data-testid="target-state"]');
    const warning = () => line()?.querySelector('[data-testid="target-warning"]')?.textContent;
    const load = () => line()?.querySelector('[data-testid="target-load"]')?.textContent;
    await waitFor(() => expect(warning()).toBe("1 of 2 keys refused: set it anew in Backends."));
    expect(line()!.classList.contains("warn")).toBe(true);
    expect(load()).toBe("0 of 50 requests this minute · 0 of 200,000 tokens this minute");
    // The other targets' lines say nothing about keys.
    expect(screen.getAllByTestId("target-state").filter((l) => l.textContent!.includes("keys"))).toHaveLength(1);

    state.keyHealth.anthropic.default = { state: "rejected", status: 403, since_ms: Date.now() };
    cleanup();
    await ready();
    await waitFor(() => expect(warning()).toBe("All 2 keys refused: set them anew in Backends."));

    const until = new Date(Date.now() + 30_000);
    state.keyHealth.anthropic = { default: { state: "cooling_down", until_ms: until.getTime() }, team: { state: "cooling_down", until_ms: until.getTime() + 5_000 } };
    cleanup();
    await ready();
    await waitFor(() => expect(warning()).toMatch(/^All keys cooling down until .+: skipped to the next target meanwhile\.$/));
    expect(warning()).toContain(until.toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
    expect(line()!.classList.contains("warn")).toBe(true);

    // One key resting while the other works: said with the load, not flagged.
    state.keyHealth.anthropic = { team: { state: "cooling_down", until_ms: until.getTime() } };
    cleanup();
    await ready();
    await waitFor(() => expect(load()).toMatch(/^1 of 2 keys cooling down until .+\. 0 of 50 requests this minute · 0 of 200,000 tokens this minute$/));
    expect(warning()).toBeUndefined();
    expect(line()!.classList.contains("warn")).toBe(false);
  });

  it("the test says which rule routed the request", async () => {
    await ready();
    await fireEvent.click(screen.getByTestId("run-route-test"));
    const rule = await screen.findByTestId("route-rule");
    expect(rule.textContent).toMatch(/^Routed by (rule \d+: .+|default route)\.$/);
  });
});
