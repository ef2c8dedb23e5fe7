import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, LITELLM_ROWS, type FakeState } from "../mocks/fake-engine";
import type { BackendDraft } from "../bindings";
import { toasts } from "../lib/toast.svelte";
import Backends from "./Backends.svelte";

let state: FakeState;
beforeEach(() => {
  state = createState("default");
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
  toasts.splice(0);
});
afterEach(() => {
  cleanup();
  clearMocks();
});

type ImportArgs = { path: string; profile: string | null; dryRun: boolean };
const importCalls = () => state.calls.filter((c) => c.cmd === "import_litellm_file").map((c) => c.args as ImportArgs);

async function openImport() {
  render(Backends);
  await screen.findByText("llamacpp");
  await fireEvent.click(screen.getByTestId("import-litellm"));
  return screen.findByTestId("import-dialog");
}

describe("Import LiteLLM config", () => {
  it("shows the dry run as a table: what will be imported as what, what will not and why, with lines", async () => {
    const dialog = await openImport();
    await waitFor(() => expect(dialog.querySelectorAll('[data-testid="import-row"]').length).toBe(LITELLM_ROWS.length));
    expect(screen.getByTestId("import-path").textContent).toBe("/home/dev/litellm/config.yaml");
    // The active profile is chosen; the select lists every profile and a new one.
    const select = screen.getByTestId("import-profile") as HTMLSelectElement;
    expect(select.value).toBe("local");
    expect([...select.options].map((o) => o.textContent)).toEqual(["cloud", "local", "A new profile…"]);

    const imported = screen.getByTestId("import-imported");
    expect(imported.closest("section")!.querySelector("h3")!.textContent).toBe("Will be imported (3)");
    const first = imported.querySelector("tbody tr")!;
    expect([...first.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["2", "model_name team-coder", 'rule "team-coder" → vllm: qwen3-coder (new rule)']);
    expect(imported.querySelector("thead")!.textContent).toContain("Becomes");

    const notImported = screen.getByTestId("import-not_imported");
    expect(notImported.closest("section")!.querySelector("h3")!.textContent).toBe("Not imported (2)");
    expect(notImported.querySelector("thead")!.textContent).toContain("Why not");
    const bedrock = [...notImported.querySelectorAll("tbody tr")].find((r) => r.textContent!.includes("team-bedrock"))!;
    expect(bedrock.querySelector("td")!.textContent).toBe("11");
    expect(bedrock.textContent).toContain("AWS request signing");
    // Settings that need nothing are there, folded away.
    expect(screen.getByTestId("import-not_needed").closest("details")!.open).toBe(false);
    expect(screen.getByTestId("import-keys").textContent).toContain("OS keychain, never into the config: openai.");
    expect((screen.getByTestId("confirm-import") as HTMLButtonElement).disabled).toBe(false);
    expect(importCalls()).toEqual([{ path: "/home/dev/litellm/config.yaml", profile: "local", dryRun: true }]);
  });

  it("Cancel changes nothing: only the dry run ran", async () => {
    const before = structuredClone({ backends: state.backends, profiles: state.profiles, keychain: state.keychain });
    await openImport();
    await waitFor(() => expect(screen.getAllByTestId("import-row").length).toBeGreaterThan(0));
    await fireEvent.click(screen.getByTestId("cancel-import"));
    expect(screen.queryByTestId("import-dialog")).toBeNull();
    expect(importCalls().every((c) => c.dryRun)).toBe(true);
    expect({ backends: state.backends, profiles: state.profiles, keychain: state.keychain }).toEqual(before);
    // Escape cancels too.
    await fireEvent.click(screen.getByTestId("import-litellm"));
    const dialog = await screen.findByTestId("import-dialog");
    await fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByTestId("import-dialog")).toBeNull();
    expect(importCalls().every((c) => c.dryRun)).toBe(true);
  });

  it("a cancelled file dialog opens nothing", async () => {
    state.chosenLitellm = null;
    render(Backends);
    await screen.findByText("llamacpp");
    await fireEvent.click(screen.getByTestId("import-litellm"));
    await waitFor(() => expect(state.calls.some((c) => c.cmd === "choose_litellm_file")).toBe(true));
    expect(screen.queryByTestId("import-dialog")).toBeNull();
    expect(importCalls()).toEqual([]);
  });

  it("imports for real into the chosen profile, says what it did and lists the new backends", async () => {
    await openImport();
    await waitFor(() => expect(screen.getAllByTestId("import-row").length).toBeGreaterThan(0));
    await fireEvent.change(screen.getByTestId("import-profile"), { target: { value: "cloud" } });
    await waitFor(() => expect(importCalls().at(-1)).toEqual({ path: "/home/dev/litellm/config.yaml", profile: "cloud", dryRun: true }));
    await waitFor(() => expect((screen.getByTestId("confirm-import") as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId("confirm-import"));
    await waitFor(() => expect(screen.queryByTestId("import-dialog")).toBeNull());
    expect(importCalls().at(-1)).toEqual({ path: "/home/dev/litellm/config.yaml", profile: "cloud", dryRun: false });
    expect(state.profiles.cloud.rules.map((r) => r.pattern)).toEqual(["team-coder"]);
    expect(state.profiles.local.rules.some((r) => r.pattern === "team-coder")).toBe(false);
    expect(toasts.at(-1)!.text).toBe(
      "Imported 3 items into profile cloud. The config as it was before is saved as /home/dev/.config/switchyard/config.toml.bak-20261123-090512.",
    );
    await waitFor(() => expect(document.querySelector('[data-backend="vllm"]')).not.toBeNull());
    expect(document.querySelector('[data-backend="openai"]')!.textContent).toContain("Key stored in keychain");

    // A second look at the same file: nothing left to import, so Import is off.
    await fireEvent.click(screen.getByTestId("import-litellm"));
    await waitFor(() => expect(screen.getAllByTestId("import-row").length).toBeGreaterThan(0));
    await fireEvent.change(screen.getByTestId("import-profile"), { target: { value: "cloud" } });
    await screen.findByTestId("import-nothing");
    expect((screen.getByTestId("confirm-import") as HTMLButtonElement).disabled).toBe(true);
  });

  it("can import into a new profile, named in the dialog", async () => {
    await openImport();
    await waitFor(() => expect(screen.getAllByTestId("import-row").length).toBeGreaterThan(0));
    await fireEvent.change(screen.getByTestId("import-profile"), { target: { value: " new" } });
    const name = (await screen.findByTestId("import-new-profile")) as HTMLInputElement;
    expect(name.value).toBe("litellm");
    await waitFor(() => expect(importCalls().at(-1)).toEqual({ path: "/home/dev/litellm/config.yaml", profile: "litellm", dryRun: true }));
    await fireEvent.input(name, { target: { value: "" } });
    expect((await screen.findByTestId("import-error", {}, { timeout: 2000 })).textContent).toBe("Type a name for the new profile, for example litellm.");
    expect((screen.getByTestId("confirm-import") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(name, { target: { value: "team" } });
    await waitFor(() => expect(importCalls().at(-1)).toEqual({ path: "/home/dev/litellm/config.yaml", profile: "team", dryRun: true }), { timeout: 2000 });
    await waitFor(() => expect((screen.getByTestId("confirm-import") as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId("confirm-import"));
    await waitFor(() => expect(state.profiles.team?.rules.map((r) => r.pattern)).toEqual(["team-coder"]));
  });

  it("shows a YAML error with its line and column as a sentence, and cannot import", async () => {
    state.chosenLitellm = "/home/dev/litellm/broken.yaml";
    await openImport();
    const error = await screen.findByTestId("import-error");
    expect(error.textContent).toBe("The LiteLLM file is not valid YAML: line 4, column 7: did not find expected key");
    expect(screen.queryAllByTestId("import-row")).toEqual([]);
    expect((screen.getByTestId("confirm-import") as HTMLButtonElement).disabled).toBe(true);
  });

  it("says a file over the size bound is not a LiteLLM config", async () => {
    state.chosenLitellm = "/home/dev/Downloads/huge.yaml";
    await openImport();
    expect((await screen.findByTestId("import-error")).textContent).toContain("too large for a LiteLLM config (at most 1 MiB)");
  });
});

describe("Rate limits in the backend form", () => {
  async function editBackend(id: string) {
    render(Backends);
    await screen.findByText("llamacpp");
    const card = document.querySelector(`[data-backend="${id}"]`)!;
    await fireEvent.click([...card.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Edit")!);
    return {
      rpm: (await screen.findByRole("textbox", { name: "Requests per minute" })) as HTMLInputElement,
      tpm: screen.getByRole("textbox", { name: "Tokens per minute" }) as HTMLInputElement,
    };
  }
  const drafts = () => state.calls.filter((c) => c.cmd === "save_backend").map((c) => (c.args as { draft: BackendDraft }).draft);

  it("shows a backend's limits in words in the list", async () => {
    render(Backends);
    await screen.findByText("llamacpp");
    expect(document.querySelector('[data-backend="anthropic"] [data-testid="limits"]')!.textContent).toBe("50 requests/min · 200k tokens/min");
    expect(document.querySelector('[data-backend="ollama"] [data-testid="limits"]')).toBeNull();
  });

  it("refuses what is not a whole number above 0, under the field, and sends nothing", async () => {
    const { rpm, tpm } = await editBackend("llamacpp");
    expect(rpm.value).toBe("");
    expect(rpm.placeholder).toBe("No limit");
    await fireEvent.input(rpm, { target: { value: "0" } });
    await fireEvent.input(tpm, { target: { value: "1.5k" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    const rpmError = await screen.findByTestId("field-error-rpm");
    expect(rpmError.textContent).toBe("Enter a whole number of requests above 0, or leave the field empty for no limit");
    expect(rpm.getAttribute("aria-describedby")).toBe(rpmError.id);
    expect(rpm.closest("label")!.contains(rpmError)).toBe(true);
    expect(screen.getByTestId("field-error-tpm").textContent).toBe("Enter a whole number of tokens above 0, or leave the field empty for no limit");
    expect(drafts()).toEqual([]);
    // Editing a field clears its error only.
    await fireEvent.input(rpm, { target: { value: "60" } });
    expect(screen.queryByTestId("field-error-rpm")).toBeNull();
    expect(screen.getByTestId("field-error-tpm")).not.toBeNull();
  });

  it("saves the limits, shows them, and an emptied field is no limit again", async () => {
    const { rpm, tpm } = await editBackend("llamacpp");
    await fireEvent.input(rpm, { target: { value: "60" } });
    await fireEvent.input(tpm, { target: { value: "200 000" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    await waitFor(() => expect(drafts().length).toBe(1));
    expect(drafts()[0]).toMatchObject({ id: "llamacpp", rpm: 60, tpm: 200000, context_length: 8192 });
    await waitFor(() => expect(document.querySelector('[data-backend="llamacpp"] [data-testid="limits"]')?.textContent).toBe("60 requests/min · 200k tokens/min"));

    cleanup();
    const again = await editBackend("llamacpp");
    expect([again.rpm.value, again.tpm.value]).toEqual(["60", "200000"]);
    await fireEvent.input(again.rpm, { target: { value: " " } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    await waitFor(() => expect(drafts().length).toBe(2));
    expect(drafts()[1]).toMatchObject({ rpm: null, tpm: 200000 });
    await waitFor(() => expect(document.querySelector('[data-backend="llamacpp"] [data-testid="limits"]')?.textContent).toBe("200k tokens/min"));
  });

  it("shows the engine's refusal of a limit under its field", async () => {
    const { rpm } = await editBackend("llamacpp");
    // The fake engine refuses 0 like the real one; the form lets the engine have the last word.
    mockIPC((cmd, args) => {
      if (cmd === "save_backend")
        throw { kind: "invalid_input", message: "Enter a whole number of requests above 0, or leave the field empty for no limit", field: "rpm" };
      return handle(state, cmd, (args ?? {}) as Record<string, unknown>);
    }, { shouldMockEvents: true });
    await fireEvent.input(rpm, { target: { value: "5" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    expect((await screen.findByTestId("field-error-rpm")).textContent).toContain("for no limit");
    expect(screen.queryByTestId("editor-error")).toBeNull();
  });
});
