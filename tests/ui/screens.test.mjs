// Playwright (playwright-core + Debian's Chromium) against `vite preview` of ui/dist, with the
// Tauri IPC replaced by the fake engine (ui/dist-mocks/mock-ipc.js, injected before the app).
// Run: npm --prefix ui run test:e2e   (builds ui/ and the mock first)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { root, startUi } from "./harness.mjs";

const artifacts = path.join(root, "tests/artifacts/ui");
let ui;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  ui = await startUi();
});

after(async () => {
  await ui?.stop();
});

/** A fresh page with the fake engine in `scenario`, the given UI language and colour scheme. */
function open(screen, options) {
  return ui.open(screen, options);
}

async function shot(page, name) {
  await page.waitForTimeout(250); // let charts and transitions settle
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

test("overview shows status, switches profile, and receives live requests", async () => {
  const { page, context, errors } = await open("overview");
  await page.getByTestId("gateway-card").waitFor();
  assert.match(await page.locator("main").innerText(), /Listening on http:\/\/127\.0\.0\.1:4747/);
  await page.getByRole("radio", { name: "cloud" }).click();
  await page.waitForFunction(() => window.__SY_MOCK.state.active === "cloud");
  assert.equal(await page.getByRole("radio", { name: "cloud" }).getAttribute("aria-checked"), "true");
  const before = Number(await page.getByTestId("requests-today").innerText());
  await page.evaluate(() => window.__SY_MOCK.pushRequest("claude-sonnet-4-5-live-test"));
  await page.getByText("claude-sonnet-4-5-live-test").waitFor();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="requests-today"]').textContent) === n + 1, before);
  await page.getByTestId("configure-claude").click();
  await page.getByText("Claude Code is configured to use Switchyard.").first().waitFor();
  await shot(page, "overview");
  assert.deepEqual(errors, []);
  await context.close();
});

test("overview error state: gateway status unavailable, Claude Code write refused", async () => {
  const { page, context } = await open("overview", { scenario: "errors" });
  const alert = page.getByTestId("overview-error");
  await alert.waitFor();
  assert.match(await alert.innerText(), /address already in use/);
  assert.ok(await alert.getByRole("button", { name: "Retry" }).isVisible());
  await shot(page, "overview-error");
  await context.close();
});

test("backends: add from a preset with a key, test, discovered models; key never shown", async () => {
  const { page, context, errors } = await open("backends");
  await page.locator('[data-backend="ollama"]').waitFor();
  await page.getByTestId("add-backend").click();
  await page.locator('[data-preset="moonshot"]').click();
  assert.equal(await page.locator('input[name="base_url"]').inputValue(), "https://api.moonshot.ai/anthropic");
  await page.locator('input[name="api_key"]').fill("sk-canary-ui-0001");
  await shot(page, "backends-editor");
  await page.getByTestId("save-backend").click();
  const card = page.locator('[data-backend="kimi"]');
  await card.waitFor();
  await card.getByText("Key stored in keychain").waitFor();
  assert.equal(await page.evaluate(() => window.__SY_MOCK.state.keychain.kimi), "sk-canary-ui-0001");
  assert.ok(!(await page.content()).includes("sk-canary-ui-0001"), "the key must not stay in the page");
  const ollama = page.locator('[data-backend="ollama"]');
  await ollama.getByTestId("test-backend").click();
  await ollama.getByTestId("test-result").waitFor();
  assert.match(await ollama.innerText(), /qwen2\.5-coder:7b/);
  await shot(page, "backends");
  assert.deepEqual(errors, []);
  await context.close();
});

test("backends error states: unreachable backend, invalid URL, keychain locked", async () => {
  const { page, context } = await open("backends");
  await page.locator('[data-backend="ollama"]').waitFor();
  await page.getByTestId("add-backend").click();
  await page.locator('[data-preset="vllm"]').click();
  await page.getByTestId("save-backend").click();
  const vllm = page.locator('[data-backend="vllm"]');
  await vllm.getByText("vllm is not running at http://127.0.0.1:8000/v1").waitFor(); // saving runs a test
  assert.equal(await vllm.getByTestId("health").getAttribute("data-health"), "failed");
  await vllm.getByTestId("toggle-details").click();
  assert.match(await vllm.getByTestId("test-detail").innerText(), /connection refused/);
  await page.getByTestId("add-backend").click();
  await page.locator('input[name="id"]').fill("broken");
  await page.locator('input[name="base_url"]').fill("localhost:1234");
  await page.getByTestId("save-backend").click();
  assert.match(await page.getByTestId("field-error-base_url").innerText(), /starts with http:\/\//);
  await shot(page, "backends-errors");
  await context.close();

  const locked = await open("backends", { scenario: "errors" });
  await locked.page.getByRole("alert").first().waitFor();
  assert.match(await locked.page.locator("main").innerText(), /Could not read the config file/);
  await locked.context.close();
});

test("backends: deleting a used backend in a 900×600 window: dialog lists the rules, keyboard only, re-points", async () => {
  const { page, context, errors } = await open("backends", { viewport: { width: 900, height: 600 } });
  const card = page.locator('[data-backend="anthropic"]');
  await card.waitFor();
  await card.getByTestId("delete-backend").click();
  const dialog = page.getByRole("dialog", { name: "Delete anthropic?" });
  await dialog.waitFor();
  assert.deepEqual(await dialog.getByTestId("dependents").locator("li").allInnerTexts(), [
    "cloud · default route · target",
    "local · rule *haiku* · fallback",
  ]);
  // Every button fits in the window, and Tab stays inside the dialog.
  for (const name of ["Cancel", "Delete backend"]) {
    const box = await dialog.getByRole("button", { name }).boundingBox();
    assert.ok(box && box.y + box.height <= 600 && box.x + box.width <= 900, `${name} is outside the window`);
  }
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), "focus left the dialog");
  }
  await shot(page, "backends-delete-dialog");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => window.__SY_MOCK.state.backends.length), 3);

  await card.getByTestId("delete-backend").click();
  await dialog.getByTestId("choice-repoint").check();
  await dialog.getByTestId("repoint-to").selectOption("ollama");
  await dialog.getByRole("button", { name: "Delete backend" }).click();
  await dialog.waitFor({ state: "detached" });
  await page.getByText("Deleted anthropic; its rules now use ollama").waitFor();
  assert.equal(await page.evaluate(() => window.__SY_MOCK.state.profiles.cloud.default.targets[0].backend), "ollama");
  assert.deepEqual(errors, []);
  await context.close();
});

test("backends: Import LiteLLM config… in a 900×600 window: the dry run's table, light/dark, en/zh; Import adds the rule", async () => {
  for (const [locale, colorScheme] of [["en-US", "light"], ["en-US", "dark"], ["zh-CN", "light"], ["zh-CN", "dark"]]) {
    const { page, context, errors } = await open("backends", { viewport: { width: 900, height: 600 }, locale, colorScheme });
    await page.locator('[data-backend="anthropic"]').waitFor();
    await page.getByTestId("import-litellm").click();
    const dialog = page.getByTestId("import-dialog");
    await dialog.getByTestId("import-row").first().waitFor();
    assert.equal(await dialog.getByTestId("import-row").count(), 6);
    // The dialog and its buttons fit the window; the table does not scroll sideways.
    for (const id of ["cancel-import", "confirm-import"]) {
      const box = await dialog.getByTestId(id).boundingBox();
      assert.ok(box && box.y + box.height <= 600 && box.x + box.width <= 900, `${id} is outside the window (${locale} ${colorScheme})`);
    }
    assert.ok(await dialog.evaluate((d) => { const b = d.querySelector(".body"); return b.scrollWidth <= b.clientWidth + 1; }), "the report scrolls sideways");
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), "focus left the dialog");
    }
    await shot(page, `backends-import-${locale}-${colorScheme}-900x600`);
    if (locale === "en-US" && colorScheme === "light") {
      await dialog.getByTestId("confirm-import").click();
      await dialog.waitFor({ state: "detached" });
      await page.getByText("Imported 3 items into profile local.", { exact: false }).waitFor();
      await page.locator('[data-backend="vllm"]').waitFor();
      await page.locator('[data-nav="mapping"]').click();
      await page.locator('[data-field="pattern"][value="team-coder"], [data-field="pattern"]').first().waitFor();
      assert.ok(await page.evaluate(() => [...document.querySelectorAll('[data-field="pattern"]')].some((i) => i.value === "team-coder")),
        "the mapping screen does not show the imported rule");
    } else {
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      assert.equal(await page.evaluate(() => window.__SY_MOCK.state.backends.length), 3, "Cancel changed the backends");
    }
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test("backend keys in a 900×600 window, en/zh, light/dark: each key's state, add, new secret, remove; the pool on the mapping and usage screens", async () => {
  const zh = { refused: /^自 \d\d:\d\d:\d\d 起被拒绝（401）：请重新设置。$/, pool: "2 个密钥中有 1 个被拒绝：请在“后端”中重新设置。", key: /^密钥 (team|default)$/ };
  const en = { refused: /^Refused \(401\) since \d\d:\d\d:\d\d: set it anew\.$/, pool: "1 of 2 keys refused: set it anew in Backends.", key: /^key (team|default)$/ };
  for (const [locale, colorScheme] of [["en-US", "light"], ["en-US", "dark"], ["zh-CN", "light"], ["zh-CN", "dark"]]) {
    const words = locale === "zh-CN" ? zh : en;
    const name = `${locale}-${colorScheme}-900x600`;
    const { page, context, errors } = await open("backends", { viewport: { width: 900, height: 600 }, locale, colorScheme });
    const wide = () => page.evaluate(() => { const m = document.querySelector("main"); return m.scrollWidth > m.clientWidth + 1 ? `${m.scrollWidth} > ${m.clientWidth}` : ""; });
    const inWindow = async (locator, what) => {
      const box = await locator.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 900 && box.y + box.height <= 600, `${what} is outside the window (${name})`);
    };
    const anthropic = page.locator('[data-backend="anthropic"]');
    await anthropic.locator('[data-testid="key-chip"][data-key="team"].trouble').waitFor();
    await anthropic.getByTestId("edit-backend").click();
    const section = page.getByTestId("keys-section");
    const team = section.locator('[data-key="team"]');
    await team.getByTestId("key-health").waitFor();
    assert.match(await team.getByTestId("key-health").innerText(), words.refused);
    await page.getByTestId("add-key").click();
    await section.scrollIntoViewIfNeeded();
    assert.equal(await wide(), "", `the keys overflow sideways (${name})`);
    for (const row of ["default", "team"]) await inWindow(section.locator(`[data-key="${row}"] [data-testid="remove-key"]`), `Remove of ${row}`);
    await shot(page, `backends-keys-${name}`);
    await page.getByTestId("add-key-form").scrollIntoViewIfNeeded();
    await inWindow(page.getByTestId("confirm-add-key"), "Add key");
    await shot(page, `backends-keys-add-${name}`);

    // Removing asks first and says what follows; the dialog fits the window.
    await team.getByTestId("remove-key").click();
    const dialog = page.getByTestId("remove-key-dialog");
    await dialog.waitFor();
    await inWindow(dialog.getByTestId("confirm-remove-key"), "Remove key");
    await shot(page, `backends-remove-key-${name}`);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    if (locale === "en-US" && colorScheme === "light") {
      // A new key, by name: stored at once, listed, the secret gone from the page.
      await page.locator('input[name="key_name"]').fill("work");
      await page.locator('input[name="new_key"]').fill("sk-canary-ui-work-0002");
      await page.locator('input[name="new_key"]').press("Enter");
      await section.locator('[data-key="work"]').waitFor();
      assert.equal(await page.evaluate(() => window.__SY_MOCK.state.keychain["anthropic:key:work"]), "sk-canary-ui-work-0002");
      assert.deepEqual(await page.evaluate(() => window.__SY_MOCK.state.pools.anthropic), ["default", "team", "work"]);
      // The refused key gets a new secret on its row and is ready again.
      await team.getByTestId("replace-key").click();
      await team.locator('input[name="replace_key"]').fill("sk-canary-ui-team-0003");
      await team.getByTestId("save-key").click();
      await page.waitForFunction(() => document.querySelector('[data-key="team"] [data-testid="key-health"]')?.textContent === "Ready");
      const html = await page.content();
      assert.ok(!html.includes("sk-canary-ui-work-0002") && !html.includes("sk-canary-ui-team-0003"), "a secret stayed in the page");
      assert.equal(await page.evaluate(() => [...document.querySelectorAll("input")].filter((i) => i.value.startsWith("sk-")).length), 0);
      await section.scrollIntoViewIfNeeded();
      await shot(page, `backends-keys-after-${name}`);
      await team.getByTestId("remove-key").click();
      assert.match(await dialog.getByTestId("remove-key-what").innerText(), /Requests go on with the others: default, work\.$/);
      await dialog.getByTestId("confirm-remove-key").click();
      await dialog.waitFor({ state: "detached" });
      await page.waitForFunction(() => window.__SY_MOCK.state.pools.anthropic.join() === "default,work");
      await page.getByTestId("cancel-backend").click();
    } else {
      await page.getByTestId("cancel-backend").click();
      // The mapping screen says the pool's trouble on the target it concerns.
      await page.locator('[data-nav="mapping"]').click();
      const line = page.getByTestId("fallbacks").first().getByTestId("target-warning");
      await line.waitFor();
      assert.equal(await line.innerText(), words.pool);
      await line.scrollIntoViewIfNeeded();
      assert.equal(await wide(), "", `mapping overflows sideways (${name})`);
      await shot(page, `mapping-key-pool-${name}`);
      // The usage history names the key a request went with.
      await page.locator('[data-nav="usage"]').click();
      const key = page.getByTestId("row-key").first();
      await key.waitFor();
      assert.match(await key.innerText(), words.key);
      await key.scrollIntoViewIfNeeded();
      await shot(page, `usage-key-${name}`);
    }
    assert.deepEqual(errors, [], name);
    await context.close();
  }
});

test("model mapping: add a rule, reorder, save, and test a model", async () => {
  const { page, context, errors } = await open("mapping");
  await page.getByTestId("rule").first().waitFor();
  await page.locator('[data-add-rule="*opus*"]').click();
  assert.equal(await page.getByTestId("rule").count(), 3);
  const last = page.getByTestId("rule").nth(2);
  await last.locator('[data-field="model"]').first().fill("llama3.1:8b");
  await last.getByTestId("rule-up").click();
  await page.getByText("Unsaved changes").waitFor();
  await page.getByTestId("save-mapping").click();
  await page.waitForFunction(() => window.__SY_MOCK.state.profiles.local.rules.map((r) => r.pattern).join() === "*haiku*,*opus*,*sonnet*");
  assert.equal(await page.evaluate(() => window.__SY_MOCK.state.profiles.local.rules[1].route.targets[0].model), "llama3.1:8b");
  await page.locator('input[name="test-model"]').fill("claude-opus-4-1");
  await page.getByTestId("run-route-test").click();
  assert.match(await page.getByTestId("route-result").innerText(), /ollama answered as llama3\.1:8b/);
  await shot(page, "mapping");
  assert.deepEqual(errors, []);
  await context.close();
});

test("model mapping: conditional rules in words, image flag, the profile's base URL; 900×600 light/dark, en/zh", async () => {
  const { page, context, errors } = await open("mapping");
  await page.getByTestId("rule").first().waitFor();
  assert.equal(await page.getByTestId("profile-url").innerText(), "http://127.0.0.1:4747/profiles/local");
  await page.getByTestId("add-conditional-rule").selectOption("images:true");
  const first = page.getByTestId("rule").first();
  assert.equal(await first.locator('[data-field="pattern"]').inputValue(), "*");
  await first.locator('[data-field="backend"]').first().selectOption("anthropic");
  await first.getByTestId("add-condition").selectOption("min_prompt_tokens");
  await first.locator('[data-field="min-tokens"]').fill("many");
  await page.getByTestId("min-tokens-error").waitFor();
  await shot(page, "mapping-conditional-invalid");
  await first.locator('[data-field="min-tokens"]').fill("50000");
  // A rule by name gains a condition: it joins the conditional rules, after the first.
  await page.getByTestId("rule").nth(2).getByTestId("add-condition").selectOption("agent:subagent");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="rule"]')[1].querySelector('[data-field="pattern"]').value === "*sonnet*");
  await page.getByTestId("rule").nth(2).locator('[data-testid="targets"] [data-field="vision"]').selectOption("false");
  await page.getByTestId("save-mapping").click();
  await page.waitForFunction(() => window.__SY_MOCK.state.profiles.local.rules.length === 3 && !document.querySelector('[data-testid="save-mapping"]').matches(":enabled"));
  const rules = await page.evaluate(() => window.__SY_MOCK.state.profiles.local.rules);
  assert.deepEqual(rules.map((r) => [r.pattern, r.when]), [
    ["*", { images: true, min_prompt_tokens: 50000 }],
    ["*sonnet*", { agent: "subagent" }],
    ["*haiku*", null],
  ]);
  assert.equal(rules[2].route.targets[0].vision, false);
  await shot(page, "mapping-conditional");
  assert.deepEqual(errors, []);
  await context.close();

  // The same screen at the minimum window size, both themes and languages: nothing sideways.
  for (const [locale, colorScheme] of [["en-US", "light"], ["en-US", "dark"], ["zh-CN", "light"], ["zh-CN", "dark"]]) {
    const small = await open("mapping", { locale, colorScheme, viewport: { width: 900, height: 600 } });
    await small.page.getByTestId("rule").first().waitFor();
    await small.page.getByTestId("add-conditional-rule").selectOption("thinking:true");
    await small.page.getByTestId("rule").first().getByTestId("add-condition").selectOption("min_prompt_tokens");
    await small.page.getByTestId("rule").first().locator('[data-testid="targets"] [data-field="vision"]').selectOption("false");
    await small.page.evaluate(() => document.querySelector("main").scrollTo(0, 0));
    const [scrollW, clientW] = await small.page.evaluate(() => [document.querySelector("main").scrollWidth, document.querySelector("main").clientWidth]);
    assert.ok(scrollW <= clientW + 1, `mapping (${locale}, ${colorScheme}) overflows sideways: ${scrollW} > ${clientW}`);
    await shot(small.page, `mapping-conditional-900-${locale}-${colorScheme}`);
    // A balanced route: its criterion in words, with its explanation, still on screen.
    const rule = small.page.getByTestId("rule").first();
    await rule.locator('[data-strategy="balanced"]').click();
    await rule.getByTestId("balance-by").selectOption("usage");
    await rule.getByTestId("balance-by").scrollIntoViewIfNeeded();
    const [w, cw] = await small.page.evaluate(() => [document.querySelector("main").scrollWidth, document.querySelector("main").clientWidth]);
    assert.ok(w <= cw + 1, `a balanced route (${locale}, ${colorScheme}) overflows sideways: ${w} > ${cw}`);
    await shot(small.page, `mapping-balanced-900-${locale}-${colorScheme}`);
    await small.context.close();
  }
});

test("model mapping error states: empty pattern refused, gateway down", async () => {
  const { page, context } = await open("mapping");
  await page.getByTestId("rule").first().waitFor();
  await page.getByTestId("rule").first().locator('[data-field="pattern"]').fill(" ");
  await page.getByTestId("save-mapping").click();
  assert.match(await page.getByTestId("mapping-error").innerText(), /type the model name or pattern it matches/);
  await context.close();
  const down = await open("mapping", { fail: ["test_route"] });
  await down.page.getByTestId("run-route-test").click();
  await down.page.getByText(/did not answer: connection refused/).waitFor();
  await shot(down.page, "mapping-error");
  await down.context.close();
});

test("usage: charts, filter, paging, CSV export", async () => {
  const { page, context, errors } = await open("usage");
  await page.getByTestId("kpi-requests").waitFor();
  await page.getByRole("radio", { name: "All" }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="kpi-requests"]').textContent === "64");
  assert.ok(await page.locator('[data-testid="daily-chart"] canvas').count() > 0, "the per-day chart draws");
  // A cloud request whose model has no known price: "unknown", never $0.
  assert.equal(await page.getByTestId("cost-unknown").first().innerText(), "unknown");
  assert.match(await page.getByTestId("kpi-cost").innerText(), /^\$[\d.]+\+$/);
  await page.getByTestId("next-page").click();
  await page.getByText(/Page 2 of 3/).waitFor();
  await page.getByTestId("usage-search").fill("haiku");
  await page.getByText(/Page 1 of 1/).waitFor();
  await page.getByTestId("text-note").waitFor();
  const models = await page.locator('[data-testid="request-table"] tbody tr td:nth-child(2)').allInnerTexts();
  assert.ok(models.length > 0 && models.every((m) => m.includes("haiku")), models.join());
  await page.getByTestId("usage-search").fill("");
  await page.getByText(/Page 1 of 3/).waitFor();
  // New requests show once the usage database has them.
  await page.evaluate(() => window.__SY_MOCK.pushRequest("claude-sonnet-4-5-stored"));
  await page.waitForFunction(() => document.querySelector('[data-testid="kpi-requests"]').textContent === "65");
  await page.getByRole("cell", { name: "claude-sonnet-4-5-stored" }).waitFor();
  await page.getByTestId("export-csv").click();
  await page.getByText(/Exported 65 rows to/).waitFor();
  await shot(page, "usage");
  assert.deepEqual(errors, []);
  await context.close();
});

test("usage error state and empty state", async () => {
  const failing = await open("usage", { scenario: "errors" });
  assert.match(await failing.page.getByTestId("usage-error").innerText(), /usage database is locked/);
  await shot(failing.page, "usage-error");
  await failing.context.close();
  const empty = await open("usage", { scenario: "empty" });
  await empty.page.getByTestId("usage-empty").waitFor();
  await empty.context.close();
});

test("settings: token masked/revealed/rotated, port validation, language switch to 简体中文", async () => {
  const { page, context, errors } = await open("settings");
  const token = page.getByTestId("token");
  await token.waitFor();
  assert.ok(!(await token.innerText()).includes("7f3c9a1e5b2d"));
  await page.getByRole("button", { name: "Show" }).click();
  assert.match(await token.innerText(), /sy-local-7f3c9a1e5b2d/);
  // An in-app dialog, never the webview's confirm().
  page.once("dialog", () => assert.fail("a native JavaScript dialog was opened"));
  await page.getByTestId("rotate-token").click();
  await page.getByTestId("confirm-rotate").click();
  await page.getByText("New token generated").waitFor();
  assert.ok(!(await token.innerText()).includes("7f3c9a1e5b2d"));
  await page.locator('input[name="port"]').fill("80");
  assert.equal(await page.getByTestId("port-error").innerText(), "Port must be 1024–65535.");
  await page.getByTestId("keep-forever").uncheck();
  await page.locator('input[name="retention"]').fill("30");
  await page.locator('input[name="port"]').fill("4848");
  await page.getByTestId("language").selectOption("zh_cn");
  await page.getByTestId("save-settings").click();
  await page.getByText("已保存。新端口在重启 Switchyard 后生效。").waitFor();
  assert.match(await page.locator("nav").innerText(), /概览/);
  assert.equal(await page.evaluate(() => window.__SY_MOCK.state.settings.retention_days), 30);
  await shot(page, "settings-zh");
  assert.deepEqual(errors, []);
  await context.close();
});

test("follows the OS: dark theme and Chinese locale without any setting", async () => {
  for (const [screen, name] of [["overview", "overview-dark-zh"], ["usage", "usage-dark-zh"], ["mapping", "mapping-dark"], ["settings", "settings"]]) {
    const dark = name.includes("dark");
    const { page, context } = await open(screen, { colorScheme: dark ? "dark" : "light", locale: name.includes("zh") ? "zh-CN" : "en-US" });
    await page.locator("main h1").waitFor();
    if (name.includes("zh")) assert.match(await page.locator("nav").innerText(), /模型映射/);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, dark ? "rgb(11, 17, 32)" : "rgb(246, 247, 249)");
    await page.waitForTimeout(300);
    await shot(page, name);
    await context.close();
  }
});

test("keyboard: every control shows where the focus is, on every screen, light and dark", async () => {
  for (const colorScheme of ["light", "dark"]) {
    for (const screen of ["overview", "backends", "mapping", "usage", "settings"]) {
      const { page, context } = await open(screen, { colorScheme, viewport: { width: 900, height: 600 } });
      await page.locator("main h1").waitFor();
      await page.waitForTimeout(300);
      const unmarked = [];
      // Tab through the page (bounded) and look at each focused control's outline.
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press("Tab");
        const seen = await page.evaluate(() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const s = getComputedStyle(el);
          let visible = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
          // A ring drawn outside the element is cut off by a parent that clips its overflow.
          const clipped = el.parentElement && getComputedStyle(el.parentElement).overflow === "hidden";
          if (clipped && parseFloat(s.outlineOffset) >= 0 && s.boxShadow === "none") visible = false;
          return { visible, what: `${el.tagName.toLowerCase()} ${(el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 30)}` };
        });
        if (seen && !seen.visible) unmarked.push(seen.what);
      }
      assert.deepEqual(unmarked, [], `${screen} (${colorScheme}): focus not visible on ${unmarked.join(", ")}`);
      if (colorScheme === "dark") {
        // Native selects follow the dark palette (the webview would draw them light).
        const light = await page.evaluate(() => [...document.querySelectorAll("select")].filter((s) => {
          const [r, g, b] = getComputedStyle(s).backgroundColor.match(/\d+/g).map(Number);
          return r + g + b > 3 * 128;
        }).length);
        assert.equal(light, 0, `${screen}: a select is drawn light in the dark theme`);
      }
      await context.close();
    }
  }
});

test("usage sessions: newest first, one click to a session's requests, main agent and subagents apart; both sizes, themes and languages", async () => {
  const S1 = "5b1c2d3e-8f4a-4c6b-9d2e-7a1f3c5e9b80";
  const sizes = [{ width: 1280, height: 800 }, { width: 900, height: 600 }];
  for (const locale of ["en-US", "zh-CN"]) {
    for (const colorScheme of ["light", "dark"]) {
      for (const viewport of sizes) {
        const name = `${locale === "zh-CN" ? "zh" : "en"}-${colorScheme}-${viewport.width}x${viewport.height}`;
        const { page, context, errors } = await open("usage", { locale, colorScheme, viewport });
        await page.getByTestId("kpi-requests").waitFor();
        await page.locator('[data-view="sessions"]').click();
        const list = page.getByTestId("session-list");
        await list.waitFor();
        const ids = await list.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.session));
        assert.equal(ids.length, 5, name);
        assert.equal(ids[0], S1, name);
        // Nothing runs off the side: the page does not scroll sideways, nor does the list in its card.
        const wide = () => page.evaluate(() => [document.querySelector("main"), ...document.querySelectorAll("main .scroll")]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => `${el.tagName.toLowerCase()}.${el.className} is ${el.scrollWidth}px wide in ${el.clientWidth}px`));
        assert.deepEqual(await wide(), [], `${name}: sessions overflow`);
        await list.scrollIntoViewIfNeeded();
        await shot(page, `usage-sessions-${name}`);

        await list.locator(`[data-session="${S1}"]`).getByTestId("open-session").click();
        await page.getByTestId("session-detail").waitFor();
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="request-table"] tbody tr').length === 8);
        assert.equal(await page.getByTestId("subagent-badge").count(), 4, name);
        assert.deepEqual(await page.locator('[data-testid="agent-breakdown"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.agent)),
          ["main", "a3f9c2e1-7b4d-4e8a-9c1f-2d6e8b0a4c71", "e71b04d9-2c5a-4f3e-8b6d-91a0c4f2e5d3"], name);
        assert.match(await page.getByTestId("session-title").innerText(), locale === "zh-CN" ? /^会话 5b1c2d3e$/ : /^Session 5b1c2d3e$/);
        assert.deepEqual(await wide(), [], `${name}: the session overflows`);
        await page.getByTestId("session-detail").scrollIntoViewIfNeeded();
        await shot(page, `usage-session-${name}`);
        await page.getByTestId("request-table").scrollIntoViewIfNeeded();
        await shot(page, `usage-session-requests-${name}`);

        await page.getByTestId("back-to-sessions").click();
        await list.waitFor();
        assert.equal(await page.getByTestId("session-detail").count(), 0);
        assert.deepEqual(errors, [], name);
        await context.close();
      }
    }
  }
});

test("usage sessions: error with Retry, and no sessions said in a sentence", async () => {
  const failing = await open("usage", { fail: ["usage_sessions"] });
  await failing.page.getByTestId("kpi-requests").waitFor();
  await failing.page.locator('[data-view="sessions"]').click();
  const alert = failing.page.getByTestId("usage-error");
  assert.match(await alert.innerText(), /usage database is locked/);
  await shot(failing.page, "usage-sessions-error");
  await failing.page.evaluate(() => window.__SY_MOCK.state.fail.clear());
  await alert.getByRole("button", { name: "Retry" }).click();
  await failing.page.getByTestId("session-list").waitFor();
  await failing.context.close();

  const empty = await open("usage", { scenario: "empty" });
  await empty.page.getByTestId("usage-empty").waitFor();
  await empty.page.locator('[data-view="sessions"]').click();
  assert.equal(await empty.page.getByTestId("sessions-empty").innerText(), "No Claude Code sessions match these filters.");
  await empty.context.close();
});

/** Widths of the page's main area and the inspector that scroll sideways (none should). */
function sideways(page) {
  return page.evaluate(() => [document.querySelector("main"), document.querySelector("[data-testid=inspector]"), ...document.querySelectorAll("[data-testid=inspector] .content")]
    .filter((el) => el && el.scrollWidth > el.clientWidth + 1)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} is ${el.scrollWidth}px wide in ${el.clientWidth}px`));
}

async function inWindow(locator, viewport, what) {
  const box = await locator.boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height, `${what} is outside the window`);
}

test("capture control and request inspector in a 900×600 window, en/zh, light/dark: four views stacked, search, changes, routing, replay, curl", async () => {
  const viewport = { width: 900, height: 600 };
  const words = {
    "en-US": { off: "Off: requests are not captured.", on: /^Capturing until \d\d:\d\d, 2 more requests at most\.$/, client: "What the client sent", upstream: "What went to ollama", count: /^1 of \d+$/ },
    "zh-CN": { off: "已关闭：请求不会被捕获。", on: /^正在捕获，直到 \d\d:\d\d，最多再捕获 2 个请求。$/, client: "客户端发出的内容", upstream: "发往 ollama 的内容", count: /^第 1 个，共 \d+ 个$/ },
  };
  for (const [locale, colorScheme] of [["en-US", "light"], ["en-US", "dark"], ["zh-CN", "light"], ["zh-CN", "dark"]]) {
    const w = words[locale];
    const name = `${locale === "zh-CN" ? "zh" : "en"}-${colorScheme}-900x600`;
    const { page, context, errors } = await open("usage", { viewport, locale, colorScheme });
    const control = page.getByTestId("capture-control");
    await page.getByTestId("kpi-requests").waitFor();
    assert.equal(await page.getByTestId("capture-state").innerText(), w.off);
    await inWindow(page.getByTestId("start-capture"), viewport, `Start capturing (${name})`);
    assert.deepEqual(await sideways(page), [], name);
    await shot(page, `capture-off-${name}`);

    // Ten minutes, two requests at most; a request comes in and is captured.
    await control.locator('[data-minutes="10"]').click();
    await page.getByTestId("capture-limit-on").check();
    await page.getByTestId("capture-limit").fill("3");
    await page.getByTestId("start-capture").click();
    await page.getByTestId("stop-capture").waitFor();
    // The toast that says so would sit over the shots below.
    await page.evaluate(() => document.querySelectorAll(".toasts button").forEach((b) => b.click()));
    const window = await page.evaluate(() => window.__SY_MOCK.state.captureWindow);
    assert.ok(window.until_ms - Date.now() > 9 * 60_000 && window.until_ms - Date.now() <= 10 * 60_000, `a 10-minute window (${name})`);
    await page.evaluate(() => window.__SY_MOCK.pushRequest("claude-sonnet-4-5"));
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("[data-testid=capture-state]").textContent), w.on.source);
    await shot(page, `capture-on-${name}`);

    // The 88 KB Claude Code request, opened from its row.
    const big = await page.evaluate(() => Object.values(window.__SY_MOCK.state.captures).find((c) => c.client_request.body.length > 85_000).id);
    const row = page.locator(`[data-testid="inspect-capture"][data-capture="${big}"]`);
    await row.scrollIntoViewIfNeeded();
    await shot(page, `usage-captured-rows-${name}`);
    await row.click();
    const inspector = page.locator('[data-testid="inspector"][data-ready="true"]');
    await inspector.waitFor();
    const client = page.getByTestId("pane-client-request");
    const upstream = page.getByTestId("pane-upstream-request");
    assert.equal(await client.getByRole("heading").innerText(), w.client);
    assert.equal(await upstream.getByRole("heading").innerText(), w.upstream);
    assert.match(await client.locator(".scroller").innerText(), /"model": "claude-sonnet-4-5"/);
    // Stacked at this size: the upstream pane below the client's, as wide.
    const [cb, ub] = [await client.boundingBox(), await upstream.boundingBox()];
    assert.ok(ub.y >= cb.y + cb.height - 1 && Math.abs(ub.width - cb.width) < 2, `panes are not stacked (${name})`);
    for (const id of ["copy-curl", "delete-capture", "close-inspector"]) await inWindow(page.getByTestId(id), viewport, `${id} (${name})`);
    assert.deepEqual(await sideways(page), [], name);
    await shot(page, `inspector-request-${name}`);

    // Search: every match counted, the current one in sight and marked.
    await client.getByTestId("search").fill("count_tokens");
    assert.match(await client.getByTestId("search-count").innerText(), w.count);
    await client.getByTestId("search-next").click();
    await client.locator("mark.current").waitFor();
    assert.ok(await client.locator("mark.current").isVisible(), `the current match is not in sight (${name})`);
    await shot(page, `inspector-search-${name}`);
    await upstream.scrollIntoViewIfNeeded();
    await shot(page, `inspector-upstream-${name}`);

    await page.locator('[data-tab="response"]').click();
    await page.getByTestId("pane-client-response").locator(".line.chunk").first().waitFor();
    assert.equal(await page.getByTestId("pane-client-response").locator(".line.chunk .gutter").first().innerText(), "+413 ms");
    assert.deepEqual(await sideways(page), [], name);
    await shot(page, `inspector-response-${name}`);

    await page.locator('[data-tab="changes"]').click();
    const model = page.locator('[data-testid="field-changes"] tr[data-path="model"]');
    assert.equal(await model.getByTestId("after").innerText(), '"qwen2.5-coder:7b"');
    assert.deepEqual(await sideways(page), [], name);
    await shot(page, `inspector-changes-${name}`);
    await page.locator('[data-changes-view="lines"]').click();
    await page.getByTestId("line-diff").locator(".line.del").first().waitFor();
    await shot(page, `inspector-changes-lines-${name}`);

    await page.locator('[data-tab="replay"]').click();
    await page.getByTestId("run-replay").click();
    await page.getByTestId("replay-answer").waitFor();
    assert.deepEqual(await sideways(page), [], name);
    await shot(page, `inspector-replay-${name}`);

    // Tab stays inside; Escape closes.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      assert.ok(await page.getByTestId("inspector").evaluate((d) => d.contains(document.activeElement)), `focus left the inspector (${name})`);
    }
    await page.keyboard.press("Escape");
    await page.getByTestId("inspector").waitFor({ state: "detached" });

    // The request whose first target was down: why, and what came next.
    const fallback = await page.evaluate(() => Object.values(window.__SY_MOCK.state.captures).find((c) => c.attempts.length === 2).id);
    await page.locator(`[data-testid="inspect-capture"][data-capture="${fallback}"]`).click();
    await inspector.waitFor();
    await page.getByTestId("attempt-picker").locator('[data-attempt="0"]').click();
    await page.getByTestId("attempt-error").first().waitFor();
    await page.getByTestId("pane-upstream-request").scrollIntoViewIfNeeded();
    await shot(page, `inspector-failed-attempt-${name}`);
    await page.locator('[data-tab="routing"]').click();
    assert.equal(await page.getByTestId("attempt-list").locator("li").count(), 2);
    await shot(page, `inspector-routing-${name}`);

    // Copy as curl (the attempt that answered): the key as a variable, never a secret.
    await page.locator('[data-tab="request"]').click();
    await page.getByTestId("attempt-picker").locator('[data-attempt="1"]').click();
    await page.evaluate(() => { navigator.clipboard.writeText = async (text) => { window.__copied = text; }; });
    await page.getByTestId("copy-curl").click();
    await page.waitForFunction(() => typeof window.__copied === "string");
    const curl = await page.evaluate(() => window.__copied);
    assert.match(curl, /-H "x-api-key: \$ANTHROPIC_API_KEY"/);
    const secrets = await page.evaluate(() => [...Object.values(window.__SY_MOCK.state.keychain), window.__SY_MOCK.state.token]);
    for (const secret of [...secrets, "[redacted]"]) assert.ok(!curl.includes(secret), `curl holds ${secret}`);
    assert.deepEqual(errors, [], name);
    await context.close();
  }
});

test("request inspector on a wide window: client and upstream side by side, the whole height", async () => {
  const viewport = { width: 1280, height: 800 };
  for (const colorScheme of ["light", "dark"]) {
    const { page, context, errors } = await open("usage", { viewport, colorScheme });
    await page.getByTestId("inspect-capture").first().waitFor();
    const big = await page.evaluate(() => Object.values(window.__SY_MOCK.state.captures).find((c) => c.client_request.body.length > 85_000).id);
    await page.locator(`[data-testid="inspect-capture"][data-capture="${big}"]`).click();
    await page.locator('[data-testid="inspector"][data-ready="true"]').waitFor();
    const [cb, ub] = [await page.getByTestId("pane-client-request").boundingBox(), await page.getByTestId("pane-upstream-request").boundingBox()];
    assert.ok(Math.abs(cb.y - ub.y) < 2 && ub.x > cb.x + cb.width - 1, "panes are not side by side");
    assert.ok(cb.y + cb.height <= viewport.height && cb.height > 500, `the panes do not fill the window's height (${cb.height}px)`);
    assert.deepEqual(await sideways(page), []);
    await shot(page, `inspector-request-en-${colorScheme}-1280x800`);
    await page.locator('[data-tab="response"]').click();
    await page.getByTestId("pane-upstream-response").locator(".line.chunk").first().waitFor();
    await shot(page, `inspector-response-en-${colorScheme}-1280x800`);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test("request inspector errors: the capture database fails (Retry), a capture gone, delete all asked first", async () => {
  const { page, context } = await open("usage", { fail: ["get_capture"] });
  await page.getByTestId("inspect-capture").first().click();
  const alert = page.getByTestId("inspector-error");
  assert.match(await alert.innerText(), /the capture database failed: database is locked/);
  await shot(page, "inspector-error");
  await page.evaluate(() => window.__SY_MOCK.state.fail.clear());
  await alert.getByRole("button", { name: "Retry" }).click();
  await page.locator('[data-testid="inspector"][data-ready="true"]').waitFor();
  await page.keyboard.press("Escape");

  await page.getByTestId("delete-all-captures").click();
  const dialog = page.getByTestId("delete-captures-dialog");
  assert.match(await dialog.innerText(), /The usage history \(times, tokens, costs\) stays/);
  await shot(page, "capture-delete-all-dialog");
  await dialog.getByTestId("confirm-delete-captures").click();
  await page.getByText("Deleted 3 captures.").waitFor();
  assert.equal(await page.getByTestId("inspect-capture").count(), 0);
  await context.close();
});
