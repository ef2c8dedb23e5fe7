import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { createState, handle, type FakeState } from "../mocks/fake-engine";
import { setLang } from "../lib/i18n.svelte";
import { toasts } from "../lib/toast.svelte";
import Backends from "./Backends.svelte";

let state: FakeState;
beforeEach(() => {
  state = createState("default");
  // A cloud backend with one key, as most are.
  state.backends.push({ ...state.backends[2], id: "zai", base_url: "https://api.z.ai/api/anthropic", rpm: null, tpm: null });
  state.keychain.zai = "sk-zai-own-0001";
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
});
afterEach(() => {
  toasts.splice(0, toasts.length);
  cleanup();
  clearMocks();
  setLang("en");
});

const card = (id: string) => document.querySelector(`[data-backend="${id}"]`)!;
const input = (name: string) => document.querySelector<HTMLInputElement>(`input[name="${name}"]`);
const keyRow = (name: string) => screen.getByTestId("key-list").querySelector(`[data-key="${name}"]`) as HTMLElement;
const keyCalls = (cmd: string) => state.calls.filter((c) => c.cmd === cmd).map((c) => c.args);

async function edit(id: string) {
  render(Backends);
  await screen.findByText(id);
  await fireEvent.click(card(id).querySelector('[data-testid="edit-backend"]')!);
  await screen.findByTestId("backend-editor");
}

/** No copy of `secret` anywhere on the page: not in the markup, not in any field. */
function nowhere(secret: string) {
  expect(document.body.innerHTML).not.toContain(secret);
  expect([...document.querySelectorAll("input")].some((i) => i.value.includes(secret))).toBe(false);
}

describe("Backend keys: one key", () => {
  it("keeps the simple form: one key field, stored by Save as the backend's own key", async () => {
    await edit("zai");
    expect(screen.queryByTestId("keys-section")).toBeNull();
    const key = input("api_key")!;
    expect(key.type).toBe("password");
    expect(key.placeholder).toBe("Replace key");
    await fireEvent.input(key, { target: { value: "sk-zai-new-0003" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    await waitFor(() => expect(state.keychain.zai).toBe("sk-zai-new-0003"));
    expect(keyCalls("set_backend_key")).toEqual([{ id: "zai", name: null, key: "<redacted>" }]);
    expect(state.pools.zai).toBeUndefined();
    await waitFor(() => expect(screen.queryByTestId("backend-editor")).toBeNull());
    nowhere("sk-zai-new-0003");
  });

  it("keeps the typed key when the save fails, and stores it once the form is right", async () => {
    await edit("zai");
    await fireEvent.input(input("api_key")!, { target: { value: "sk-zai-kept-0004" } });
    await fireEvent.input(input("base_url")!, { target: { value: "api.z.ai" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    await screen.findByTestId("field-error-base_url");
    expect(input("api_key")!.value).toBe("sk-zai-kept-0004");
    expect(keyCalls("set_backend_key")).toEqual([]);

    // The backend saves but the keychain is locked: said under the key, which stays typed.
    state.fail.add("set_backend_key");
    await fireEvent.input(input("base_url")!, { target: { value: "https://api.z.ai/api/anthropic" } });
    await fireEvent.click(screen.getByTestId("save-backend"));
    expect((await screen.findByTestId("field-error-api_key")).textContent).toContain("The OS keychain is locked");
    expect(input("api_key")!.value).toBe("sk-zai-kept-0004");

    state.fail.clear();
    await fireEvent.click(screen.getByTestId("save-backend"));
    await waitFor(() => expect(state.keychain.zai).toBe("sk-zai-kept-0004"));
    await waitFor(() => expect(screen.queryByTestId("backend-editor")).toBeNull());
  });

  it("adds a named second key at once: the pool is listed, and the secret leaves the page", async () => {
    await edit("zai");
    await fireEvent.click(screen.getByTestId("add-another-key"));
    const form = screen.getByTestId("add-key-form");
    await fireEvent.input(input("key_name")!, { target: { value: "backup" } });
    await fireEvent.input(input("new_key")!, { target: { value: "sk-zai-backup-0002" } });
    expect(input("new_key")!.type).toBe("password");
    await fireEvent.click(within(form).getByTestId("confirm-add-key"));
    await waitFor(() => expect(state.keychain["zai:key:backup"]).toBe("sk-zai-backup-0002"));
    // Like the engine: the backend's own key stays in the pool as "default".
    expect(state.pools.zai).toEqual(["default", "backup"]);
    expect(keyCalls("set_backend_key")).toEqual([{ id: "zai", name: "backup", key: "<redacted>" }]);
    expect(keyCalls("save_backend")).toEqual([]);

    const section = await screen.findByTestId("keys-section");
    expect([...section.querySelectorAll("[data-key]")].map((r) => r.getAttribute("data-key"))).toEqual(["default", "backup"]);
    expect(within(keyRow("backup")).getByTestId("key-stored").textContent).toBe("Stored");
    expect(screen.queryByTestId("add-key-form")).toBeNull();
    expect(input("api_key")).toBeNull();
    nowhere("sk-zai-backup-0002");
    // The list behind the form knows too.
    await waitFor(() => expect(card("zai").querySelector('[data-testid="key-status"]')!.textContent).toBe("2 keys, used in turn:"));
    expect(toasts.map((t) => t.text)).toContain("Key backup saved to the keychain.");
  });

  it("a key typed in the single field before adding another is kept, on that key's row", async () => {
    await edit("zai");
    await fireEvent.input(input("api_key")!, { target: { value: "sk-zai-pending-0005" } });
    await fireEvent.click(screen.getByTestId("add-another-key"));
    await fireEvent.input(input("key_name")!, { target: { value: "backup" } });
    await fireEvent.input(input("new_key")!, { target: { value: "sk-zai-backup-0002" } });
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    await screen.findByTestId("keys-section");
    // Not stored behind the user's back, not thrown away: waiting on the default key's row.
    expect(state.keychain.zai).toBe("sk-zai-own-0001");
    expect(keyRow("default").querySelector<HTMLInputElement>('input[name="replace_key"]')!.value).toBe("sk-zai-pending-0005");
    await fireEvent.click(within(keyRow("default")).getByTestId("save-key"));
    await waitFor(() => expect(state.keychain.zai).toBe("sk-zai-pending-0005"));
    expect(keyCalls("set_backend_key").at(-1)).toEqual({ id: "zai", name: "default", key: "<redacted>" });
  });

  it("removing a backend's only key from its card asks first and says requests go without one", async () => {
    render(Backends);
    await screen.findByText("zai");
    await fireEvent.click(card("zai").querySelector('[data-testid="remove-key"]')!);
    const dialog = await screen.findByTestId("remove-key-dialog");
    expect(document.getElementById(dialog.getAttribute("aria-labelledby")!)!.textContent).toBe("Remove key default of zai?");
    expect(within(dialog).getByTestId("remove-key-what").textContent).toBe(
      "The key is deleted from the OS keychain. Until you store another, requests to zai are sent without a key, and a cloud service will refuse them.");
    await fireEvent.click(within(dialog).getByTestId("confirm-remove-key"));
    await waitFor(() => expect("zai" in state.keychain).toBe(false));
    expect(keyCalls("delete_backend_key")).toEqual([{ id: "zai", name: "default" }]);
    await waitFor(() => expect(card("zai").querySelector('[data-testid="key-status"]')!.textContent).toBe("No key"));
  });
});

describe("Backend keys: a pool", () => {
  it("lists each key with whether it is stored and what the requests found: ready, refused since, cooling down until", async () => {
    const until = Date.now() + 90_000;
    state.keyHealth.anthropic.default = { state: "cooling_down", until_ms: until };
    await edit("anthropic");
    const section = screen.getByTestId("keys-section");
    expect(section.getAttribute("data-mode")).toBe("pool");
    expect(input("api_key")).toBeNull();
    await waitFor(() => expect(keyRow("team").querySelector('[data-testid="key-health"]')).not.toBeNull());
    expect(within(keyRow("team")).getByTestId("key-stored").textContent).toBe("Stored");
    expect(within(keyRow("team")).getByTestId("key-health").textContent).toMatch(/^Refused \(401\) since \d\d:\d\d:\d\d: set it anew\.$/);
    expect(within(keyRow("default")).getByTestId("key-health").textContent).toMatch(/^Cooling down until \d\d:\d\d:\d\d: the provider is limiting it\.$/);
    // The card says the same in a word.
    const chips = [...card("anthropic").querySelectorAll('[data-testid="key-chip"]')].map((c) => c.textContent);
    expect(chips).toEqual(["default · cooling down", "team · refused"]);
    nowhere("sk-ant-seeded");

    setLang("zh-CN");
    await waitFor(() => expect(within(keyRow("team")).getByTestId("key-health").textContent).toMatch(/^自 \d\d:\d\d:\d\d 起被拒绝（401）：请重新设置。$/));
    expect(within(keyRow("team")).getByTestId("key-stored").textContent).toBe("已保存");
  });

  it("gives a refused key a new secret on its row (Enter does not save the whole form), and it is ready again", async () => {
    await edit("anthropic");
    await waitFor(() => expect(within(keyRow("team")).getByTestId("key-health").textContent).toContain("Refused"));
    const replace = within(keyRow("team")).getByTestId("replace-key");
    expect(replace.getAttribute("aria-label")).toBe("Give key team a new secret");
    await fireEvent.click(replace);
    const secret = input("replace_key")!;
    expect(secret.type).toBe("password");
    await fireEvent.input(secret, { target: { value: "sk-ant-team-new-0006" } });
    await fireEvent.keyDown(secret, { key: "Enter" });
    await waitFor(() => expect(state.keychain["anthropic:key:team"]).toBe("sk-ant-team-new-0006"));
    expect(keyCalls("set_backend_key")).toEqual([{ id: "anthropic", name: "team", key: "<redacted>" }]);
    expect(keyCalls("save_backend")).toEqual([]);
    await waitFor(() => expect(within(keyRow("team")).getByTestId("key-health").textContent).toBe("Ready"));
    expect(input("replace_key")).toBeNull();
    nowhere("sk-ant-team-new-0006");
    expect(screen.getByTestId("backend-editor")).toBeTruthy();
  });

  it("removing a key asks first and says the others carry on; Cancel keeps it", async () => {
    await edit("anthropic");
    await fireEvent.click(within(keyRow("team")).getByTestId("remove-key"));
    let dialog = await screen.findByTestId("remove-key-dialog");
    expect(within(dialog).getByTestId("remove-key-what").textContent).toBe(
      "Its secret is deleted from the OS keychain and team leaves the keys of anthropic. Requests go on with the others: default.");
    await fireEvent.click(within(dialog).getByText("Cancel"));
    await waitFor(() => expect(screen.queryByTestId("remove-key-dialog")).toBeNull());
    expect(keyCalls("delete_backend_key")).toEqual([]);
    expect(state.keychain["anthropic:key:team"]).toBe("sk-ant-seeded-team-0002");

    await fireEvent.click(within(keyRow("team")).getByTestId("remove-key"));
    dialog = await screen.findByTestId("remove-key-dialog");
    await fireEvent.click(within(dialog).getByTestId("confirm-remove-key"));
    await waitFor(() => expect(state.pools.anthropic).toEqual(["default"]));
    expect("anthropic:key:team" in state.keychain).toBe(false);
    expect(keyCalls("delete_backend_key")).toEqual([{ id: "anthropic", name: "team" }]);
    // One key left: back to the simple field.
    await waitFor(() => expect(input("api_key")).not.toBeNull());
    expect(screen.queryByTestId("keys-section")).toBeNull();
    expect(toasts.map((t) => t.text)).toContain("Removed key team of anthropic.");
  });

  it("a name the engine refuses is said under the name; what was typed stays, and a fixed name goes through", async () => {
    await edit("anthropic");
    await fireEvent.click(screen.getByTestId("add-key"));
    await fireEvent.input(input("key_name")!, { target: { value: "my key" } });
    await fireEvent.input(input("new_key")!, { target: { value: "sk-ant-work-0007" } });
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    const error = await screen.findByTestId("field-error-key_name");
    expect(error.textContent).toBe("\"my key\" cannot name a key: use up to 64 letters, digits, '-', '_' or '.', for example work");
    expect(input("key_name")!.getAttribute("aria-describedby")).toBe(error.id);
    expect(input("key_name")!.value).toBe("my key");
    expect(input("new_key")!.value).toBe("sk-ant-work-0007");
    expect(Object.keys(state.keychain).some((a) => a.includes("my key"))).toBe(false);

    // A name the backend already has would only replace that key: said before anything is sent.
    await fireEvent.input(input("key_name")!, { target: { value: "team" } });
    expect(screen.queryByTestId("field-error-key_name")).toBeNull();
    const sent = keyCalls("set_backend_key").length;
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    expect((await screen.findByTestId("field-error-key_name")).textContent).toBe(
      "There is already a key called team: use Replace on its row to give it a new secret.");
    expect(keyCalls("set_backend_key")).toHaveLength(sent);

    await fireEvent.input(input("key_name")!, { target: { value: "work" } });
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    await waitFor(() => expect(state.pools.anthropic).toEqual(["default", "team", "work"]));
    expect(state.keychain["anthropic:key:work"]).toBe("sk-ant-work-0007");
    await waitFor(() => expect(screen.queryByTestId("add-key-form")).toBeNull());
    nowhere("sk-ant-work-0007");
  });

  it("a locked keychain is said in the add form, and the secret stays for another try", async () => {
    await edit("anthropic");
    await fireEvent.click(screen.getByTestId("add-key"));
    // Nothing to send yet: both fields are asked for.
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    expect(screen.getByTestId("field-error-key_name").textContent).toBe("Name the key, for example work.");
    expect(screen.getByTestId("field-error-new_key").textContent).toBe("Paste the key to store.");
    expect(keyCalls("set_backend_key")).toEqual([]);

    state.fail.add("set_backend_key");
    await fireEvent.input(input("key_name")!, { target: { value: "work" } });
    await fireEvent.input(input("new_key")!, { target: { value: "sk-ant-work-0008" } });
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    expect((await screen.findByTestId("add-key-error")).textContent).toContain("The OS keychain is locked");
    expect(input("new_key")!.value).toBe("sk-ant-work-0008");
    expect(state.pools.anthropic).toEqual(["default", "team"]);

    state.fail.clear();
    await fireEvent.click(screen.getByTestId("confirm-add-key"));
    await waitFor(() => expect(state.keychain["anthropic:key:work"]).toBe("sk-ant-work-0008"));
    await waitFor(() => expect(screen.queryByTestId("add-key-form")).toBeNull());
    nowhere("sk-ant-work-0008");
  });
});

describe("Backend keys: from the environment", () => {
  beforeEach(() => {
    state.backends.push({ ...state.backends[2], id: "deepseek", base_url: "https://api.deepseek.com/anthropic", api_key_env: "DEEPSEEK_KEY_A, DEEPSEEK_KEY_B" });
    state.env.DEEPSEEK_KEY_A = "sk-ds-a";
  });

  it("shows the variables and whether each is set, with nothing to store in the keychain", async () => {
    render(Backends);
    await screen.findByText("deepseek");
    expect(card("deepseek").querySelector('[data-testid="key-status"]')!.textContent).toBe("Keys read from $DEEPSEEK_KEY_A, $DEEPSEEK_KEY_B");
    expect([...card("deepseek").querySelectorAll('[data-testid="key-chip"]')].map((c) => c.textContent)).toEqual(["$DEEPSEEK_KEY_B: not set"]);
    expect(card("deepseek").querySelector('[data-testid="remove-key"]')).toBeNull();

    await fireEvent.click(card("deepseek").querySelector('[data-testid="edit-backend"]')!);
    const section = await screen.findByTestId("keys-section");
    expect(section.getAttribute("data-mode")).toBe("env");
    expect(section.textContent).toContain("Read from these environment variables when Switchyard starts.");
    expect(within(keyRow("DEEPSEEK_KEY_A")).getByTestId("key-stored").textContent).toBe("Set");
    expect(within(keyRow("DEEPSEEK_KEY_B")).getByTestId("key-stored").textContent).toBe("Not set");
    expect(keyRow("DEEPSEEK_KEY_A").textContent).toContain("$DEEPSEEK_KEY_A");
    expect(section.querySelector('[data-testid="replace-key"], [data-testid="remove-key"], [data-testid="add-key"]')).toBeNull();
    expect(input("api_key")).toBeNull();
  });

  it("a refused variable says how to set it anew", async () => {
    state.keyHealth.deepseek = { DEEPSEEK_KEY_A: { state: "rejected", status: 403, since_ms: Date.now() - 1000 } };
    await edit("deepseek");
    await waitFor(() => expect(within(keyRow("DEEPSEEK_KEY_A")).getByTestId("key-health").textContent)
      .toMatch(/^Refused \(403\) since \d\d:\d\d:\d\d: put a valid key in \$DEEPSEEK_KEY_A and restart Switchyard\.$/));
    // A variable that is not set has no health to speak of.
    expect(keyRow("DEEPSEEK_KEY_B").querySelector('[data-testid="key-health"]')).toBeNull();
  });
});
