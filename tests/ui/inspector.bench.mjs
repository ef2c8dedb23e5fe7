// A measurement, not a test: how long the request inspector takes to show a captured 88 KB
// Claude Code request after the click on its usage row (issue 20: "within 200 ms of the
// click"), over the mocked IPC in Debian's Chromium, at the window's minimum and a usual size.
// Each run clicks Inspect, waits until both panes of the Request view have their first rows in
// the page and the frame that shows them was painted, then closes the inspector with Escape.
// Also timed, for information: switching to the Response and Changes views.
// Run: npm --prefix ui run bench:ui (builds ui/ and the mock first), or `make bench`.
// BENCH_RUNS (default 30) sets the number of clicks per size.
import { startUi } from "./harness.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

/** Waits in the page until `ready()` holds, then for the next paint; ms since `t0`. */
const IN_PAGE = `
window.__bench = {
  until(ready, t0) {
    return new Promise((resolve) => {
      const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
      if (ready()) return done();
      const mo = new MutationObserver(() => {
        if (ready()) {
          mo.disconnect();
          done();
        }
      });
      mo.observe(document.body, { childList: true, subtree: true, attributes: true });
    });
  },
};`;

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { p50: q(0.5), p90: q(0.9), max: s[s.length - 1] };
}

const ms = (x) => `${x.toFixed(1)} ms`;

const ui = await startUi();
try {
  const version = ui.browser.version();
  console.log(`# inspector bench: ${RUNS} clicks per size, Chromium ${version}, mocked IPC, ${new Date().toISOString()}`);
  for (const viewport of [{ width: 900, height: 600 }, { width: 1280, height: 800 }]) {
    const { page, context, errors } = await ui.open("usage", { viewport });
    await page.addScriptTag({ content: IN_PAGE });
    await page.getByTestId("inspect-capture").first().waitFor();
    const id = await page.evaluate(() => Object.values(window.__SY_MOCK.state.captures).find((c) => c.client_request.body.length > 85_000).id);
    const bytes = await page.evaluate((i) => window.__SY_MOCK.state.captures[i].client_request.body.length, id);
    const open = [];
    const response = [];
    const changes = [];
    for (let run = 0; run < RUNS; run++) {
      open.push(await page.evaluate(async (i) => {
        const button = document.querySelector(`[data-testid="inspect-capture"][data-capture="${i}"]`);
        const t0 = performance.now();
        button.click();
        return window.__bench.until(() => document.querySelector('[data-testid="inspector"][data-ready="true"] [data-testid="pane-client-request"] .line')
          && document.querySelector('[data-testid="pane-upstream-request"] .line'), t0);
      }, id));
      response.push(await page.evaluate(() => {
        const t0 = performance.now();
        document.querySelector('[data-tab="response"]').click();
        return window.__bench.until(() => document.querySelector('[data-testid="pane-client-response"] .line.chunk')
          && document.querySelector('[data-testid="pane-upstream-response"] .line.chunk'), t0);
      }));
      changes.push(await page.evaluate(() => {
        const t0 = performance.now();
        document.querySelector('[data-tab="changes"]').click();
        return window.__bench.until(() => document.querySelector('[data-testid="field-changes"] tr[data-path="model"]'), t0);
      }));
      await page.keyboard.press("Escape");
      await page.getByTestId("inspector").waitFor({ state: "detached" });
    }
    if (errors.length) throw new Error(errors.join("\n"));
    const size = `${viewport.width}x${viewport.height}`;
    const line = (what, xs, target) => {
      const s = stats(xs.slice(1));
      console.log(`${size}  ${what.padEnd(44)} first ${ms(xs[0]).padStart(9)}  p50 ${ms(s.p50).padStart(9)}  p90 ${ms(s.p90).padStart(9)}  max ${ms(s.max).padStart(9)}${target ? `  (target ${target})` : ""}`);
    };
    console.log(`${size}  the capture: ${bytes} bytes of request body`);
    line("click → both request panes shown", open, "200 ms");
    line("→ Response (two stream timelines)", response);
    line("→ Changes (fields diff of the two bodies)", changes);
    await context.close();
  }
} finally {
  await ui.stop();
}
