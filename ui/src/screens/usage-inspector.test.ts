import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { createState, handle, newRow, statusOf, type FakeState } from "../mocks/fake-engine";
import { CLAUDE_CODE_BODY } from "../mocks/fake-captures";
import { setLang } from "../lib/i18n.svelte";
import { toasts } from "../lib/toast.svelte";
import { clearForgotten } from "../lib/captures.svelte";
import type { Capture, ReplayTo } from "../bindings";
import Usage from "./Usage.svelte";

let state: FakeState;
function install(scenario: Parameters<typeof createState>[0] = "default", fail?: string[]) {
  state = createState(scenario, Date.now(), fail);
  mockIPC((cmd, args) => handle(state, cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
}

let writeText: ReturnType<typeof vi.fn>;
beforeEach(() => {
  install();
  writeText = vi.fn().mockResolvedValue(undefined);
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
});
afterEach(() => {
  cleanup();
  clearMocks();
  setLang("en");
  toasts.splice(0);
  clearForgotten();
});

/** The seeded captures, by what they are. */
function seeded() {
  const all = Object.values(state.captures);
  const find = (f: (c: Capture) => boolean) => all.find(f)!;
  return {
    big: find((c) => c.client_request.body === CLAUDE_CODE_BODY),
    passThrough: find((c) => c.requested_model === "claude-opus-4-1"),
    fallback: find((c) => c.attempts.length === 2),
  };
}

const calls = (cmd: string) => state.calls.filter((c) => c.cmd === cmd).map((c) => c.args as Record<string, unknown>);
const pane = (testid: string) => screen.getByTestId(testid);
/** The text of the rows a view shows (only those in sight are in the page). */
const shownText = (el: HTMLElement) => [...el.querySelectorAll(".line .text")].map((l) => l.textContent).join("\n");

async function openUsage() {
  render(Usage);
  await screen.findByTestId("kpi-requests");
  await screen.findByTestId("request-table");
  await screen.findByTestId("capture-state");
}

async function inspect(c: Capture) {
  const button = await waitFor(() => {
    const b = document.querySelector<HTMLButtonElement>(`[data-testid="inspect-capture"][data-capture="${c.id}"]`);
    if (!b) throw new Error(`no Inspect for ${c.id}`);
    return b;
  });
  await fireEvent.click(button);
  await waitFor(() => expect(screen.getByTestId("inspector").dataset.ready).toBe("true"));
  return screen.getByTestId("inspector");
}

describe("Usage: Inspect on captured rows", () => {
  it("offers Inspect on the rows with a capture only", async () => {
    await openUsage();
    const rows = [...document.querySelectorAll<HTMLTableRowElement>('[data-testid="request-table"] tbody tr')];
    const withButton = rows.filter((tr) => within(tr).queryByTestId("inspect-capture"));
    const captured = state.rows.slice(0, rows.length).filter((r) => r.capture_id !== null);
    expect(withButton).toHaveLength(captured.length);
    expect(captured).toHaveLength(3);
    expect(within(withButton[0]).getByTestId("inspect-capture").textContent!.trim()).toBe("Inspect");
  });

  it("opens the 88 KB Claude Code request: what the client sent and what went to Ollama, only the rows in sight in the page", async () => {
    await openUsage();
    const { big } = seeded();
    expect(CLAUDE_CODE_BODY.length).toBeGreaterThan(85_000);
    const inspector = await inspect(big);
    expect(calls("get_capture")).toEqual([{ id: big.id }]);
    expect(within(inspector).getByRole("heading", { level: 2 }).textContent).toContain("claude-sonnet-4-5");
    expect(screen.getByTestId("inspector-status").textContent).toBe("Answered (200)");
    expect(screen.getByTestId("inspector-facts").textContent).toContain("first byte after 413 ms");

    const client = pane("pane-client-request");
    expect(within(client).getByRole("heading").textContent).toBe("What the client sent");
    expect(within(client).getByTestId("pane-subtitle").textContent).toBe("POST /v1/messages?beta=true");
    expect(shownText(client)).toContain('"model": "claude-sonnet-4-5",');
    const upstream = pane("pane-upstream-request");
    expect(within(upstream).getByRole("heading").textContent).toBe("What went to ollama");
    expect(within(upstream).getByTestId("pane-subtitle").textContent).toBe("POST http://127.0.0.1:11434/api/chat");
    expect(shownText(upstream)).toContain('"model": "qwen2.5-coder:7b",');

    // Virtualised: hundreds of rows, a few dozen in the page.
    const scroller = client.querySelector<HTMLElement>(".scroller")!;
    expect(Number(scroller.dataset.rows)).toBeGreaterThan(700);
    expect(client.querySelectorAll(".line").length).toBeLessThan(80);
    expect(document.body.innerHTML.length).toBeLessThan(CLAUDE_CODE_BODY.length);
  });

  it("searches a body: counts every match, highlights them, steps to the next and back", async () => {
    await openUsage();
    const { big } = seeded();
    await inspect(big);
    const client = pane("pane-client-request");
    const search = within(client).getByTestId("search") as HTMLInputElement;
    // Ctrl+F goes to the first search box.
    await fireEvent.keyDown(screen.getByTestId("inspector"), { key: "f", ctrlKey: true });
    expect(document.activeElement).toBe(search);
    // Counted here from the request itself (re-indenting does not touch strings).
    const expected = CLAUDE_CODE_BODY.toLowerCase().split("count_tokens").length - 1;
    expect(expected).toBeGreaterThan(3);
    await fireEvent.input(search, { target: { value: "COUNT_TOKENS" } });
    const count = within(client).getByTestId("search-count");
    expect(count.textContent).toBe(`1 of ${expected}`);
    // The current match is in sight and marked apart from the others.
    await waitFor(() => expect(client.querySelector("mark.current")?.textContent?.toLowerCase()).toBe("count_tokens"));
    await fireEvent.click(within(client).getByTestId("search-next"));
    expect(count.textContent).toBe(`2 of ${expected}`);
    await fireEvent.keyDown(search, { key: "Enter", shiftKey: true });
    expect(count.textContent).toBe(`1 of ${expected}`);
    await fireEvent.keyDown(search, { key: "Enter", shiftKey: true });
    expect(count.textContent).toBe(`${expected} of ${expected}`);
    await fireEvent.input(search, { target: { value: "no-such-words-here" } });
    expect(count.textContent).toBe("No matches");
    expect(client.querySelectorAll("mark")).toHaveLength(0);
    // Escape in a search box with text clears it; the inspector stays open.
    await fireEvent.keyDown(search, { key: "Escape" });
    expect(screen.getByTestId("inspector")).toBeTruthy();
  });

  it("shows headers with credentials as not kept", async () => {
    await openUsage();
    await inspect(seeded().big);
    const client = pane("pane-client-request");
    await fireEvent.click(client.querySelector('[data-pane-view="headers"]')!);
    const table = within(client).getByTestId("headers");
    expect(table.textContent).toContain("anthropic-version");
    expect(table.textContent).toContain("claude-cli/2.1.30 (external, cli)");
    const redacted = within(table).getAllByTestId("redacted");
    expect(redacted).toHaveLength(1);
    expect(redacted[0].closest("tr")!.textContent).toContain("x-api-key");
    expect(redacted[0].textContent).toBe("not kept");
    expect(table.textContent).not.toContain("[redacted]");
  });

  it("shows streams as timelines: each chunk's arrival time, the client's Anthropic events and Ollama's lines", async () => {
    await openUsage();
    const { big } = seeded();
    await inspect(big);
    await fireEvent.click(document.querySelector('[data-tab="response"]')!);
    const got = pane("pane-client-response");
    const chunks = big.client_response.chunks;
    expect(within(got).getByTestId("pane-subtitle").textContent).toBe(`Status 200 · ${chunks.length} chunks over ${Math.round(chunks.at(-1)!.at_ms)} ms`);
    const gutters = [...got.querySelectorAll(".line.chunk .gutter")].map((g) => g.textContent);
    expect(gutters[0]).toBe("+413 ms");
    expect(gutters.length).toBeGreaterThan(5);
    expect(shownText(got)).toContain("event: message_start");
    const back = pane("pane-upstream-response");
    expect(within(back).getByRole("heading").textContent).toBe("What came back from ollama");
    expect(shownText(back)).toContain('"done":false');
    expect([...back.querySelectorAll(".line.chunk .gutter")][0].textContent).toBe("+413 ms");
  });

  it("shows what the translation changed: the model, the fields added and removed", async () => {
    await openUsage();
    await inspect(seeded().big);
    await fireEvent.click(document.querySelector('[data-tab="changes"]')!);
    const changes = await screen.findByTestId("changes");
    const model = changes.querySelector<HTMLTableRowElement>('[data-testid="field-changes"] tr[data-path="model"]')!;
    expect(within(model).getByTestId("before").textContent).toBe('"claude-sonnet-4-5"');
    expect(within(model).getByTestId("after").textContent).toBe('"qwen2.5-coder:7b"');
    const top = within(changes).getByTestId("changes-top").textContent!;
    expect(top).toContain("Changed: model, messages, tools");
    expect(top).toContain("Removed: max_tokens, system, metadata, thinking, context_management");
    expect(changes.querySelector('tr[data-path="system"]')!.className).toContain("removed");
    // The line view: the model's line, removed and added.
    await fireEvent.click(changes.querySelector('[data-changes-view="lines"]')!);
    const lines = within(changes).getByTestId("line-diff");
    expect([...lines.querySelectorAll(".line.del .text")].map((l) => l.textContent)).toContain('  "model": "claude-sonnet-4-5",');
    expect([...lines.querySelectorAll(".line.add .text")].map((l) => l.textContent)).toContain('  "model": "qwen2.5-coder:7b",');
  });

  it("says when the backend got the client's body unchanged (a pass-through)", async () => {
    await openUsage();
    await inspect(seeded().passThrough);
    await fireEvent.click(document.querySelector('[data-tab="changes"]')!);
    expect((await screen.findByTestId("changes-same")).textContent).toBe("anthropic got the client's body unchanged.");
    // Headers the gateway set itself differ; the credential is in both, never compared.
    const headers = screen.getByTestId("header-changes").textContent!;
    expect(headers).toContain("user-agent");
    expect(headers).not.toContain("x-api-key");
  });

  it("shows a failed attempt: why it failed, what the gateway did next, and that nothing came back", async () => {
    await openUsage();
    const { fallback } = seeded();
    await inspect(fallback);
    const picker = screen.getByTestId("attempt-picker");
    expect([...picker.querySelectorAll("button")].map((b) => b.textContent!.trim())).toEqual(["Attempt 1: llamacpp · failed", "Attempt 2: anthropic"]);
    // The attempt that answered is shown first; the header names it whichever is picked.
    expect(within(pane("pane-upstream-request")).getByRole("heading").textContent).toBe("What went to anthropic");
    await fireEvent.click(picker.querySelector('[data-attempt="0"]')!);
    const upstream = pane("pane-upstream-request");
    expect(within(upstream).getByTestId("attempt-error").textContent!.trim()).toBe(
      'This attempt failed: Switchyard could not reach backend "llamacpp" at http://127.0.0.1:8080/v1 (connection refused or unreachable). Is it running? Then the gateway went on to the next target.',
    );
    expect(shownText(upstream)).toContain('"model": "qwen2.5-coder:1.5b",');
    expect(screen.getByTestId("inspector-answered").textContent).toBe("anthropic · claude-haiku-4-5");
    await fireEvent.click(document.querySelector('[data-tab="response"]')!);
    expect(pane("pane-upstream-response").textContent).toContain("Nothing came back from llamacpp.");
    await fireEvent.click(document.querySelector('[data-tab="routing"]')!);
    const routing = screen.getByTestId("routing");
    expect(within(routing).getByTestId("routing-rule").textContent).toBe("rule 1: *haiku*");
    const attempts = [...within(routing).getByTestId("attempt-list").querySelectorAll("li")];
    expect(attempts).toHaveLength(2);
    expect(attempts[0].textContent).toContain("then the gateway went on to the next target".replace(/^t/, "T"));
    expect(attempts[1].textContent).toContain("anthropic, model claude-haiku-4-5 · key team");
    expect(attempts[1].textContent).toContain("Answered with status 200.");
    expect(within(routing).getByTestId("timing-total").textContent).toBe(`${(fallback.timings.total_ms / 1000).toFixed(1)} s`);
  });

  it("copies the upstream request as curl with the key as a variable, never a secret", async () => {
    await openUsage();
    await inspect(seeded().fallback);
    await fireEvent.click(screen.getByTestId("copy-curl"));
    await waitFor(() => expect(writeText).toHaveBeenCalledTimes(1));
    const curl = writeText.mock.calls[0][0] as string;
    expect(curl).toContain("curl -X POST 'https://api.anthropic.com/v1/messages'");
    expect(curl).toContain('-H "x-api-key: $ANTHROPIC_API_KEY"');
    expect(curl).toContain("# Keys are never captured: set $ANTHROPIC_API_KEY to the key before running this.");
    expect(curl).toContain("-H 'anthropic-version: 2023-06-01'");
    expect(curl).not.toContain("[redacted]");
    for (const secret of [...Object.values(state.keychain), state.token]) expect(curl).not.toContain(secret);
    expect(toasts.map((t) => t.text)).toContain(
      "Copied the request to anthropic as a curl command. Keys are never captured: set $ANTHROPIC_API_KEY before running it.",
    );
  });

  it("replays to a backend and model and shows both answers side by side", async () => {
    await openUsage();
    const { big } = seeded();
    await inspect(big);
    await fireEvent.click(document.querySelector('[data-tab="replay"]')!);
    const replay = await screen.findByTestId("replay");
    await waitFor(() => expect((within(replay).getByTestId("replay-backend") as HTMLSelectElement).options.length).toBe(3));
    // Another backend than the one that answered, by default.
    expect((within(replay).getByTestId("replay-backend") as HTMLSelectElement).value).toBe("llamacpp");
    await fireEvent.change(within(replay).getByTestId("replay-backend"), { target: { value: "anthropic" } });
    await fireEvent.input(within(replay).getByTestId("replay-model"), { target: { value: "claude-sonnet-4-5" } });
    await fireEvent.click(within(replay).getByTestId("run-replay"));
    const answer = await within(replay).findByTestId("replay-answer");
    expect(calls("replay_capture")).toEqual([{ id: big.id, to: { target: { backend: "anthropic", model: "claude-sonnet-4-5" } } satisfies ReplayTo }]);
    const original = within(replay).getByTestId("replay-original");
    expect(original.textContent).toContain("ollama · qwen2.5-coder:7b");
    expect(within(original).getByTestId("latency").textContent).toBe("900 ms");
    expect(within(original).getByTestId("tokens").textContent).toBe("21.9k / 61");
    expect(within(original).getByTestId("cost").textContent).toBe("$0");
    expect(within(original).getByTestId("answer-text").textContent).toContain("count_tokens builds its answer from the estimate");
    expect(answer.textContent).toContain("anthropic · claude-sonnet-4-5");
    expect(within(answer).getByTestId("latency").textContent).toBe("1.3 s");
    expect(within(answer).getByTestId("cost").textContent).toMatch(/^\$0\.0\d+$/);
    expect(within(replay).getByTestId("replay-note").textContent).toBe(
      "The original was streamed; the replay asks for the whole answer at once, so its latency is the full answer's.",
    );
    // The replay is in the usage history, like any request.
    expect(state.rows[0].rule).toBe("replay to anthropic/claude-sonnet-4-5");
  });

  it("keeps what was chosen and typed when a replay fails, and replays through a profile", async () => {
    install("default", ["replay_capture"]);
    await openUsage();
    await inspect(seeded().fallback);
    await fireEvent.click(document.querySelector('[data-tab="replay"]')!);
    const replay = await screen.findByTestId("replay");
    await waitFor(() => expect((within(replay).getByTestId("replay-backend") as HTMLSelectElement).options.length).toBe(3));
    await fireEvent.change(within(replay).getByTestId("replay-backend"), { target: { value: "ollama" } });
    await fireEvent.input(within(replay).getByTestId("replay-model"), { target: { value: "llama3.1:8b" } });
    await fireEvent.click(within(replay).getByTestId("run-replay"));
    expect((await within(replay).findByTestId("replay-error")).textContent).toBe("the replay got no answer within 10 minutes");
    expect((within(replay).getByTestId("replay-model") as HTMLInputElement).value).toBe("llama3.1:8b");
    expect((within(replay).getByTestId("replay-backend") as HTMLSelectElement).value).toBe("ollama");

    state.fail.clear();
    await fireEvent.click(replay.querySelector('[data-replay-mode="profile"]')!);
    await fireEvent.change(within(replay).getByTestId("replay-profile"), { target: { value: "cloud" } });
    await fireEvent.click(within(replay).getByTestId("run-replay"));
    const answer = await within(replay).findByTestId("replay-answer");
    expect(calls("replay_capture").at(-1)!.to).toEqual({ profile: "cloud" });
    expect(answer.textContent).toContain("anthropic · claude-haiku-4-5");
    expect(within(replay).queryByTestId("replay-note")).toBeNull();
  });

  it("deletes this capture after asking; its row no longer offers it", async () => {
    await openUsage();
    const { passThrough } = seeded();
    await inspect(passThrough);
    await fireEvent.click(screen.getByTestId("delete-capture"));
    const dialog = await screen.findByTestId("delete-capture-dialog");
    expect(dialog.textContent).toContain("The captured request and answer are deleted from this computer, which cannot be undone. The request stays in the usage history.");
    await fireEvent.click(within(dialog).getByTestId("confirm-delete-capture"));
    await waitFor(() => expect(screen.queryByTestId("inspector")).toBeNull());
    expect(calls("delete_captures")).toEqual([{ id: passThrough.id }]);
    expect(passThrough.id in state.captures).toBe(false);
    expect(document.querySelector(`[data-capture="${passThrough.id}"]`)).toBeNull();
    expect(screen.getAllByTestId("inspect-capture")).toHaveLength(2);
  });

  it("says so when a capture is gone (retention), and Escape closes the inspector", async () => {
    await openUsage();
    const { big } = seeded();
    delete state.captures[big.id];
    await fireEvent.click(document.querySelector(`[data-testid="inspect-capture"][data-capture="${big.id}"]`)!);
    const error = await screen.findByTestId("inspector-error");
    expect(error.textContent).toContain("This capture is no longer kept: it was deleted or passed its retention. The request stays in the usage history.");
    await fireEvent.keyDown(screen.getByTestId("inspector"), { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("inspector")).toBeNull());
  });

  it("speaks Chinese", async () => {
    setLang("zh-CN");
    await openUsage();
    expect(screen.getByTestId("capture-control").textContent).toContain("捕获请求");
    await inspect(seeded().fallback);
    expect(within(pane("pane-client-request")).getByRole("heading").textContent).toBe("客户端发出的内容");
    await fireEvent.click(screen.getByTestId("attempt-picker").querySelector('[data-attempt="0"]')!);
    expect(screen.getByTestId("attempt-error").textContent).toContain("随后网关转向了下一个目标。");
  });
});

describe("Usage: Capture requests", () => {
  it("starts capturing for a while and the next N requests, counts them down, and stops", async () => {
    await openUsage();
    const control = screen.getByTestId("capture-control");
    expect(screen.getByTestId("capture-state").textContent).toBe("Off: requests are not captured.");
    expect(control.textContent).toContain("Keys and the local token are never kept.");
    await fireEvent.click(control.querySelector('[data-minutes="10"]')!);
    await fireEvent.click(within(control).getByTestId("capture-limit-on"));
    await fireEvent.input(within(control).getByTestId("capture-limit"), { target: { value: "2" } });
    await fireEvent.click(within(control).getByTestId("start-capture"));
    await waitFor(() => expect(calls("start_capture")).toEqual([{ minutes: 10, requests: 2 }]));
    const until = new Date(state.captureWindow!.until_ms).toLocaleTimeString("en-US", { hour: "2-digit", minute: "2-digit", hour12: false });
    await waitFor(() => expect(screen.getByTestId("capture-state").textContent).toBe(`Capturing until ${until}, 2 more requests at most.`));

    // A request finishes: captured, counted, and its row offers Inspect.
    const row = newRow(state, { requested_model: "claude-sonnet-4-5-window" });
    expect(row.capture_id).not.toBeNull();
    await emit("usage-changed", { status: statusOf(state) });
    await waitFor(() => expect(screen.getByTestId("capture-state").textContent).toBe(`Capturing until ${until}, 1 more request at most.`));
    await waitFor(() => expect(document.querySelector(`[data-capture="${row.capture_id}"]`)).not.toBeNull());

    await fireEvent.click(screen.getByTestId("stop-capture"));
    await waitFor(() => expect(screen.getByTestId("capture-state").textContent).toBe("Off: requests are not captured."));
    expect(calls("stop_capture")).toHaveLength(1);
    expect(newRow(state).capture_id).toBeNull();
  });

  it("refuses a count that is not a whole number from 1, keeping what was typed", async () => {
    await openUsage();
    const control = screen.getByTestId("capture-control");
    await fireEvent.click(within(control).getByTestId("capture-limit-on"));
    await fireEvent.input(within(control).getByTestId("capture-limit"), { target: { value: "0" } });
    expect(within(control).getByTestId("capture-limit-error").textContent).toBe("Enter a whole number of requests from 1 to 10000, or untick the box.");
    expect(within(control).getByTestId("start-capture").hasAttribute("disabled")).toBe(true);
    expect((within(control).getByTestId("capture-limit") as HTMLInputElement).value).toBe("0");
    // Unticked, the count no longer matters.
    await fireEvent.click(within(control).getByTestId("capture-limit-on"));
    expect(within(control).getByTestId("start-capture").hasAttribute("disabled")).toBe(false);
    await fireEvent.click(within(control).getByTestId("start-capture"));
    await waitFor(() => expect(calls("start_capture")).toEqual([{ minutes: 30, requests: null }]));
    await waitFor(() => expect(screen.getByTestId("capture-state").textContent).toMatch(/^Capturing every request until \d\d:\d\d\.$/));
  });

  it("says which profiles capture every request, and what went wrong when capture cannot start", async () => {
    state.captureProfiles = ["cloud"];
    state.capturesDropped = 3;
    state.capturesAvailable = false;
    render(Usage);
    await screen.findByTestId("capture-unavailable");
    expect(screen.getByTestId("capture-profiles").textContent).toBe("The profile cloud captures every request (capture = true in its config).");
    expect(screen.getByTestId("capture-dropped").textContent).toBe(
      "3 captures were dropped because requests came faster than they could be stored; the requests were answered all the same.",
    );
    expect(screen.getByTestId("capture-unavailable").textContent).toBe("Capture is not available: Switchyard has no usage database to keep captures in.");
    expect(screen.queryByTestId("start-capture")).toBeNull();
    expect(screen.getByTestId("delete-all-captures").hasAttribute("disabled")).toBe(true);
  });

  it("shows the engine's refusal under the control and keeps the choice", async () => {
    await openUsage();
    // The engine goes without a database after the screen read the status.
    state.capturesAvailable = false;
    const control = screen.getByTestId("capture-control");
    await fireEvent.click(control.querySelector('[data-minutes="60"]')!);
    await fireEvent.click(within(control).getByTestId("start-capture"));
    expect((await within(control).findByTestId("capture-error")).textContent).toContain("Captures are not available");
    expect(control.querySelector('[data-minutes="60"]')!.getAttribute("aria-checked")).toBe("true");
  });

  it("deletes all captures after saying what goes and what stays", async () => {
    await openUsage();
    const before = Object.keys(state.captures).length;
    expect(before).toBe(3);
    await fireEvent.click(screen.getByTestId("delete-all-captures"));
    const dialog = await screen.findByTestId("delete-captures-dialog");
    expect(within(dialog).getByRole("heading").textContent).toBe("Delete all captures?");
    expect(dialog.textContent).toContain(
      "Every captured request and answer is deleted from this computer, which cannot be undone. The usage history (times, tokens, costs) stays, and capture stays on or off as it is.",
    );
    // Cancel deletes nothing.
    await fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(Object.keys(state.captures)).toHaveLength(3);
    await fireEvent.click(screen.getByTestId("delete-all-captures"));
    await fireEvent.click(await screen.findByTestId("confirm-delete-captures"));
    await waitFor(() => expect(toasts.map((t) => t.text)).toContain("Deleted 3 captures."));
    expect(calls("delete_captures")).toEqual([{ id: null }]);
    expect(state.captures).toEqual({});
    // The rows keep their capture_id in the database; the window no longer offers them.
    expect(state.rows.filter((r) => r.capture_id !== null)).toHaveLength(3);
    await waitFor(() => expect(screen.queryAllByTestId("inspect-capture")).toHaveLength(0));
  });
});
