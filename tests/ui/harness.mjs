// What the Playwright runs share (screens.test.mjs, inspector.bench.mjs): `vite preview` of
// ui/dist on a free port, Debian's Chromium through playwright-core, and pages with the Tauri
// IPC replaced by the fake engine (ui/dist-mocks/mock-ipc.js, injected before the app).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const uiDir = path.join(root, "ui");
export const mockScript = path.join(uiDir, "dist-mocks/mock-ipc.js");
const { chromium } = createRequire(path.join(uiDir, "package.json"))("playwright-core");

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} did not come up within ${ms} ms`);
}

/** `vite preview` of ui/dist and a headless Chromium (playwright-core gives it a fresh
 *  temporary profile). `stop()` ends both. */
export async function startUi() {
  if (!existsSync(path.join(uiDir, "dist/index.html"))) throw new Error("build ui first: npm --prefix ui run build");
  if (!existsSync(mockScript)) throw new Error("build the IPC mock first: npm --prefix ui run build:mocks");
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [path.join(uiDir, "node_modules/vite/bin/vite.js"), "preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: uiDir,
    stdio: "ignore",
  });
  try {
    await waitForHttp(baseUrl, 20_000);
  } catch (e) {
    server.kill("SIGTERM");
    throw e;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });

  /** A fresh page with the fake engine in `scenario`, the given UI language and colour scheme. */
  async function open(screen, { scenario = "default", fail, locale = "en-US", colorScheme = "light", viewport = { width: 1280, height: 860 } } = {}) {
    const context = await browser.newContext({ viewport, locale, colorScheme });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.addInitScript(`window.__SY_SCENARIO = ${JSON.stringify(scenario)}; window.__SY_FAIL = ${JSON.stringify(fail ?? null) ?? "null"} ?? undefined;`);
    await page.addInitScript({ path: mockScript });
    await page.goto(`${baseUrl}/#${screen}`);
    return { page, context, errors };
  }

  async function stop() {
    await browser.close();
    server.kill("SIGTERM");
  }

  return { baseUrl, browser, open, stop };
}
