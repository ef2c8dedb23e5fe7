"""Real-webview end-to-end test of a first launch (tauri-driver + WebKitWebDriver).

Run through scripts/desktop-e2e.sh, which provides Xvfb, a tray host, a D-Bus session with an
unlocked gnome-keyring, a fresh HOME with NO config file, and these variables:
  SY_APP, SY_TAURI_DRIVER, SY_ARTIFACTS, SWITCHYARD_LISTEN (a free 127.0.0.1 port), DISPLAY.
SWITCHYARD_SHOW_WINDOW is not set: the window must open by itself because the config is new.

Flow: the window shows the setup checklist; a fake Ollama (tests/e2e/fake_llm.py, on a port
given through SWITCHYARD_DISCOVER_URLS) is found and added in one click; opus/sonnet/haiku are
mapped to it; Claude Code is configured (~/.claude/settings.json points at the gateway); the
test request succeeds; the Usage screen shows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait

APP = os.environ["SY_APP"]
DRIVER = os.environ["SY_TAURI_DRIVER"]
ARTIFACTS = Path(os.environ["SY_ARTIFACTS"])
LISTEN = os.environ["SWITCHYARD_LISTEN"]
HOME = Path(os.environ["HOME"])
CONFIG = Path(os.environ["XDG_CONFIG_HOME"]) / "switchyard" / "config.toml"
FAKE_LLM = Path(__file__).resolve().parent.parent / "e2e" / "fake_llm.py"


STEP_TIMEOUT = 20


def log(msg: str) -> None:
    print(f"[first-run] {msg}", flush=True)


def wait_http(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # something answers
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} not reachable after {seconds}s")


class Gui:
    """The few WebDriver steps this flow needs (innerText through scripts: WebKitWebDriver's
    element-text endpoint can fail on a changing DOM)."""

    def __init__(self, driver: webdriver.Remote) -> None:
        self.d = driver

    def wait(self, cond, what: str, timeout: float = STEP_TIMEOUT):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.2).until(lambda d: cond())
        except Exception as e:  # noqa: BLE001
            self.shot(f"first-run-FAILED-{what.replace(' ', '-')}")
            raise AssertionError(f"timed out waiting for {what}") from e

    def css(self, sel: str):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def one(self, sel: str, what: str | None = None):
        return self.wait(lambda: (self.css(sel) or [None])[0], what or sel)

    def click(self, sel: str) -> None:
        self.one(sel).click()

    def text(self) -> str:
        return self.d.execute_script("return document.body.innerText")

    def txt(self, el) -> str:
        return self.d.execute_script("return arguments[0].innerText", el)

    def first_text(self, sel: str) -> str:
        return self.d.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", sel)

    def wait_text(self, needle: str, timeout: float = STEP_TIMEOUT) -> None:
        self.wait(lambda: needle in self.text(), f"text {needle!r}", timeout)

    def row_texts(self) -> list[str]:
        return self.d.execute_script("return [...document.querySelectorAll('[data-testid=request-table] tbody tr')].map(r => r.innerText)")

    def nav(self, screen: str) -> None:
        self.click(f'[data-nav="{screen}"]')
        self.one("main h1")

    def shot(self, name: str) -> None:
        time.sleep(1)  # WebDriver screenshots can show a stale frame otherwise
        self.d.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def start_fake_ollama(record: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_LLM), "--style", "ollama", "--record", str(record), "--final-text", "ok"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on "), f"fake Ollama did not start: {line!r}"
    return proc, line.removeprefix("listening on ")


def shot(gui: Gui, name: str) -> None:
    gui.shot(f"first-run-{name}")


def run_flow(gui: Gui, ollama_url: str, record: Path) -> None:
    log("the window opened by itself with the checklist")
    checklist = gui.one('[data-testid="setup-checklist"]', "the setup checklist")
    assert CONFIG.exists(), f"the first start did not write {CONFIG}"
    wait_http(f"http://{LISTEN}/", 20)
    gui.wait(lambda: ollama_url in gui.first_text('[data-testid="setup-checklist"]'), "the fake Ollama in the checklist")
    shot(gui, "1-checklist")

    log("add the found engine in one click")
    engines = gui.css('[data-testid="found-engine"]')
    ours = [e for e in engines if ollama_url in gui.txt(e)]
    assert len(ours) == 1, [gui.txt(e) for e in engines]
    assert "fake-model:latest" in gui.txt(ours[0])
    ours[0].find_element(By.CSS_SELECTOR, '[data-testid="add-engine"]').click()
    gui.wait_text("Added as ollama-2")
    text = CONFIG.read_text()
    assert 'id = "ollama-2"' in text and ollama_url in text, text

    log("map opus / sonnet / haiku (prefilled from the engine's models)")
    gui.wait(lambda: gui.d.execute_script(
        "return document.querySelector('[data-testid=map-sonnet]')?.value") == "fake-model:latest", "sonnet prefilled")
    for family in ("opus", "haiku"):
        value = gui.d.execute_script(f"return document.querySelector('[data-testid=map-{family}]').value")
        assert value == "fake-model:latest", (family, value)
    gui.click('[data-testid="map-apply"]')
    gui.wait(lambda: "done" in (gui.one('[data-testid="setup-step-map"]').get_attribute("class") or ""), "mapping step done")
    text = CONFIG.read_text()
    for pattern in ("*opus*", "*sonnet*", "*haiku*"):
        assert f'match = "{pattern}"' in text, text
    shot(gui, "2-mapped")

    log("configure Claude Code")
    gui.click('[data-testid="setup-configure"]')
    settings = HOME / ".claude" / "settings.json"
    gui.wait(lambda: settings.exists(), "Claude Code's settings.json")
    env = json.loads(settings.read_text()).get("env", {})
    assert env.get("ANTHROPIC_BASE_URL") == f"http://{LISTEN}", env
    gui.wait(lambda: gui.first_text('[data-testid="claude-badge"]') == "Set up", "the Claude Code badge")

    log("send the test request")
    gui.click('[data-testid="setup-test"]')
    gui.wait_text("The test request reached ollama-2 (fake-model:latest)", 60)
    shot(gui, "3-tested")
    gui.wait(lambda: not gui.css('[data-testid="setup-checklist"]'), "the checklist to go away when done")
    assert checklist is not None
    calls = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    assert any(c["path"] == "/api/chat" and c["body"].get("model") == "fake-model:latest" for c in calls), calls
    health = gui.first_text('[data-testid="backend-health"]')
    assert "ollama-2" in health, health
    shot(gui, "4-overview")

    log("the Usage screen shows the test request")
    gui.nav("usage")
    gui.wait(lambda: any("ollama-2" in t and "claude-sonnet-4-5" in t for t in gui.row_texts()), "usage row for ollama-2")
    shot(gui, "5-usage")


def main() -> int:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert not CONFIG.exists(), f"{CONFIG} exists before the first start"
    assert "SWITCHYARD_SHOW_WINDOW" not in os.environ
    record = HOME / "fake-ollama.jsonl"
    fake, ollama_url = start_fake_ollama(record)
    os.environ["SWITCHYARD_DISCOVER_URLS"] = ollama_url
    driver_log = open(ARTIFACTS / "first-run-tauri-driver.log", "wb")
    driver_proc = subprocess.Popen([DRIVER, "--port", "4444"], stdout=driver_log, stderr=subprocess.STDOUT)
    try:
        wait_http("http://127.0.0.1:4444/status", 15)
        opts = ArgOptions()
        opts.set_capability("browserName", "wry")
        opts.set_capability("tauri:options", {"application": APP})
        d = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=opts)
        try:
            run_flow(Gui(d), ollama_url, record)
        finally:
            try:
                d.quit()
            except WebDriverException:
                pass
    finally:
        driver_proc.terminate()
        try:
            driver_proc.wait(10)
        except subprocess.TimeoutExpired:
            driver_proc.kill()
        driver_log.close()
        fake.terminate()
        fake.wait(10)
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
