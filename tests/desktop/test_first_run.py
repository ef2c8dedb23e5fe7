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

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions

sys.path.insert(0, str(Path(__file__).parent))
from webgui import Gui, wait_http  # noqa: E402

APP = os.environ["SY_APP"]
DRIVER = os.environ["SY_TAURI_DRIVER"]
ARTIFACTS = Path(os.environ["SY_ARTIFACTS"])
LISTEN = os.environ["SWITCHYARD_LISTEN"]
HOME = Path(os.environ["HOME"])
CONFIG = Path(os.environ["XDG_CONFIG_HOME"]) / "switchyard" / "config.toml"
FAKE_LLM = Path(__file__).resolve().parent.parent / "e2e" / "fake_llm.py"




def log(msg: str) -> None:
    print(f"[first-run] {msg}", flush=True)


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
    gui.shot(name)


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
            run_flow(Gui(d, ARTIFACTS, prefix="first-run-"), ollama_url, record)
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
