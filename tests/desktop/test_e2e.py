"""Real-webview end-to-end test of the desktop app (tauri-driver + WebKitWebDriver).

Run through scripts/desktop-e2e.sh, which provides Xvfb, a tray host, a D-Bus session with an
unlocked gnome-keyring, a temporary HOME, and these variables:
  SY_APP (the built binary), SY_TAURI_DRIVER, SY_ARTIFACTS, SWITCHYARD_CONFIG, SWITCHYARD_DATA_DIR,
  SWITCHYARD_TOKEN, SY_LISTEN (127.0.0.1:PORT), DISPLAY.

Flow: add a backend (fake upstream A) in the GUI with a canary key, map claude-sonnet-* to it,
send a request through the gateway and see it in Usage; add a conditional rule ("has images" ->
upstream B) and see a request with an image go to B while a plain one still goes to A; switch to
Cloud from the tray menu and see the next request go to upstream B, while the local profile's
base URL (as the mapping screen shows it) still routes to A; then check the canary is in the
keychain and nowhere else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions

sys.path.insert(0, str(Path(__file__).parent))
from fake_upstream import FakeUpstream  # noqa: E402
from webgui import Gui, wait_http  # noqa: E402

APP = os.environ["SY_APP"]
DRIVER = os.environ["SY_TAURI_DRIVER"]
ARTIFACTS = Path(os.environ["SY_ARTIFACTS"])
CONFIG = Path(os.environ["SWITCHYARD_CONFIG"])
DATA_DIR = Path(os.environ["SWITCHYARD_DATA_DIR"])
TOKEN = os.environ["SWITCHYARD_TOKEN"]
LISTEN = os.environ["SY_LISTEN"]
HOME = Path(os.environ["HOME"])
CANARY = f"sk-canary-{uuid.uuid4().hex}"
# A comment of the user's own: every save from the app (backend, mapping, settings) keeps it.
USER_COMMENT = "beta is the team's Anthropic proxy: do not delete (a comment the app must keep)"


def log(msg: str) -> None:
    print(f"[e2e] {msg}", flush=True)


def write_config(beta_url: str) -> None:
    CONFIG.parent.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(
        f"""listen = "{LISTEN}"
active_profile = "local"

# {USER_COMMENT}
[[backends]]
id = "beta"
kind = "anthropic"
base_url = "{beta_url}"

[profiles.local]

[profiles.cloud]
default = {{ backend = "beta" }}
"""
    )


# A 1x1 PNG: enough for the gateway to see an image block.
TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
IMAGE_CONTENT = [
    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": TINY_PNG}},
    {"type": "text", "text": "what is in this picture?"},
]


def gateway_request(model: str, content: str | list = "hi", base_url: str | None = None) -> dict:
    body = json.dumps({"model": model, "max_tokens": 32, "messages": [{"role": "user", "content": content}]}).encode()
    req = urllib.request.Request(
        f"{base_url or f'http://{LISTEN}'}/v1/messages",
        data=body,
        headers={"content-type": "application/json", "x-api-key": TOKEN, "anthropic-version": "2023-06-01"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise AssertionError(f"gateway answered {e.code}: {e.read()[:500]!r}") from e


def screen_shot(name: str) -> None:
    subprocess.run(["import", "-window", "root", str(ARTIFACTS / f"{name}.png")], check=False)


def open_tray_menu_and_pick_cloud() -> None:
    # trayer sits at the bottom right (see desktop-e2e.sh); its first icon is ours.
    subprocess.run(["xdotool", "mousemove", os.environ.get("SY_TRAY_X", "1262"), os.environ.get("SY_TRAY_Y", "784"), "click", "1"], check=True)
    time.sleep(1.5)
    screen_shot("tray-menu")
    # Disabled items (the status line) are skipped: the first Down lands on the first profile
    # (profiles are listed alphabetically: cloud, local).
    subprocess.run(["xdotool", "key", "Down"], check=True)
    time.sleep(0.3)
    subprocess.run(["xdotool", "key", "Return"], check=True)


def grep_tree(root: Path, needle: bytes, skip: tuple[Path, ...] = ()) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if any(str(path).startswith(str(s)) for s in skip) or not path.is_file() or path.is_symlink():
            continue
        try:
            if needle in path.read_bytes():
                hits.append(str(path))
        except OSError:
            pass
    return hits


def keychain_has(secret: str) -> bool:
    out = subprocess.run(
        ["secret-tool", "search", "--all", "--unlock", "xdg:schema", "org.freedesktop.Secret.Generic"],
        capture_output=True, text=True, check=False,
    )
    if secret in out.stdout:
        return True
    # keyring-rs items carry service/username attributes; search without the schema too.
    for attr in (["service", "switchyard"], ["application", "rust-keyring"]):
        out = subprocess.run(["secret-tool", "search", "--all", "--unlock", *attr], capture_output=True, text=True, check=False)
        if secret in out.stdout:
            return True
    return False


def main() -> int:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver_log = open(ARTIFACTS / "tauri-driver.log", "wb")
    with FakeUpstream("alpha") as alpha, FakeUpstream("beta") as beta:
        write_config(beta.url)
        driver_proc = subprocess.Popen([DRIVER, "--port", "4444"], stdout=driver_log, stderr=subprocess.STDOUT)
        try:
            wait_http("http://127.0.0.1:4444/status", 15)
            opts = ArgOptions()
            opts.set_capability("browserName", "wry")
            opts.set_capability("tauri:options", {"application": APP})
            d = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=opts)
            try:
                gui = Gui(d, ARTIFACTS)
                run_flow(gui, alpha, beta)
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
    check_canary()
    log("PASS")
    return 0


def run_flow(gui: Gui, alpha: FakeUpstream, beta: FakeUpstream) -> None:
    log("overview")
    gui.one('[data-testid="gateway-card"]', "overview to load")
    wait_http(f"http://{LISTEN}/", 20)
    gui.shot("overview")

    log("add backend alpha with a canary key")
    gui.nav("backends")
    gui.click('[data-testid="add-backend"]')
    gui.click('[data-preset="custom-anthropic"]')
    gui.fill(gui.one('input[name="id"]'), "alpha")
    gui.fill(gui.one('input[name="base_url"]'), alpha.url)
    gui.fill(gui.one('input[name="api_key"]'), CANARY)
    gui.shot("backends-editor")
    gui.click('[data-testid="save-backend"]')
    gui.wait(lambda: "Key stored in keychain" in gui.first_text('[data-backend="alpha"]'), "alpha key stored")
    gui.wait_text("alpha-model")  # saving runs a test that lists the upstream's models
    gui.shot("backends")

    log("map claude-sonnet-* to alpha in the local profile")
    gui.nav("mapping")
    gui.click('[data-profile="local"]')
    gui.click('[data-add-rule="*sonnet*"]')
    rule = gui.wait(lambda: gui.css('[data-testid="rule"]')[-1] if gui.css('[data-testid="rule"]') else None, "new rule")
    pattern = rule.find_element(By.CSS_SELECTOR, '[data-field="pattern"]')
    gui.fill(pattern, "claude-sonnet-*")
    gui.choose(rule.find_element(By.CSS_SELECTOR, '[data-field="backend"]'), "alpha")
    gui.fill(rule.find_element(By.CSS_SELECTOR, '[data-field="model"]'), "alpha-model")
    gui.click('[data-testid="save-mapping"]')
    gui.wait(lambda: gui.d.execute_script("return document.querySelector('[data-testid=save-mapping]').disabled") and "Unsaved" not in gui.text(), "mapping saved")
    gui.fill(gui.one('input[name="test-model"]'), "claude-sonnet-4-5")
    gui.click('[data-testid="run-route-test"]')
    gui.wait(lambda: "alpha answered" in gui.first_text('[data-testid="route-result"]'), "route test result")
    gui.shot("mapping")

    log("request through the gateway goes to alpha with the keychain key")
    before = len(alpha.messages())
    reply = gateway_request("claude-sonnet-4-5")
    assert reply["content"][0]["text"] == "hello from alpha", reply
    sent = alpha.messages()[-1]
    assert len(alpha.messages()) == before + 1
    assert sent["body"]["model"] == "alpha-model", sent["body"]
    key_header = sent["headers"].get("x-api-key") or sent["headers"].get("X-Api-Key")
    assert key_header == CANARY, "the key typed in the GUI must reach the upstream from the keychain"

    profile_url = add_conditional_rule(gui, alpha, beta)

    log("usage shows the request")
    gui.nav("usage")
    gui.wait(lambda: any("alpha" in t and "claude-sonnet-4-5" in t for t in gui.row_texts()), "usage row for alpha")
    gui.shot("usage")

    log("rename alpha in the app: its key moves with it and requests still authenticate")
    gui.nav("backends")
    gui.one('[data-backend="alpha"]')
    gui.d.execute_script(
        "[...document.querySelector('[data-backend=alpha]').querySelectorAll('button')]"
        ".find(b => b.innerText.trim() === 'Edit').click()"
    )
    gui.fill(gui.one('input[name="id"]'), "alpha-renamed")
    gui.click('[data-testid="save-backend"]')
    gui.wait(lambda: "Key stored in keychain" in gui.first_text('[data-backend="alpha-renamed"]'), "renamed backend keeps its key")
    reply = gateway_request("claude-sonnet-4-5")
    assert reply["content"][0]["text"] == "hello from alpha", reply
    renamed_key = alpha.messages()[-1]["headers"].get("x-api-key") or alpha.messages()[-1]["headers"].get("X-Api-Key")
    assert renamed_key == CANARY, "after a rename the key must still reach the upstream"
    saved_text = CONFIG.read_text()
    assert USER_COMMENT in saved_text, f"the app's saves dropped the user's comment:\n{saved_text}"
    assert 'id = "alpha-renamed"' in saved_text and 'backend = "alpha-renamed"' in saved_text, saved_text
    assert "timeout_connect_s" not in saved_text, f"the app wrote defaults out:\n{saved_text}"

    log("switch to cloud from the tray")
    open_tray_menu_and_pick_cloud()
    gui.nav("overview")
    gui.wait(lambda: gui.first_text('[data-testid="profile-switch"] [aria-checked="true"]').strip().lower() == "cloud", "cloud profile active")
    before_b = len(beta.messages())
    reply = gateway_request("claude-sonnet-4-5")
    assert reply["content"][0]["text"] == "hello from beta", reply
    assert len(beta.messages()) == before_b + 1
    assert beta.messages()[-1]["body"]["model"] == "claude-sonnet-4-5"
    gui.wait(lambda: any("beta" in t for t in gui.row_texts()), "overview shows the beta request")
    gui.shot("overview-after-switch")
    # The base URL the mapping screen showed for "local" routes under it whatever the active one.
    before_a = len(alpha.messages())
    reply = gateway_request("claude-sonnet-4-5", base_url=profile_url)
    assert reply["content"][0]["text"] == "hello from alpha", reply
    assert len(alpha.messages()) == before_a + 1
    screen_shot("desktop")

    gui.nav("settings")
    gui.one('[data-testid="token"]')
    gui.shot("settings")

    screenshot_matrix(gui)


SCREENS = ("overview", "backends", "mapping", "usage", "settings")
LANGS = (("en", "en", "Overview"), ("zh_cn", "zh-CN", "概览"))
THEMES = ("light", "dark")
SIZES = ((1280, 800), (900, 600))


def add_conditional_rule(gui: Gui, alpha: FakeUpstream, beta: FakeUpstream) -> str:
    """In the mapping screen: a conditional rule "has images" -> beta, saved; a request with an
    image must reach beta, a plain one still alpha. Returns the local profile's base URL as shown."""
    log("conditional rule: requests with images go to beta")
    gui.nav("mapping")
    gui.click('[data-profile="local"]')
    profile_url = gui.wait(lambda: gui.first_text('[data-testid="profile-url"]').strip(), "the profile's base URL")
    assert profile_url == f"http://{LISTEN}/profiles/local", profile_url
    gui.click('[data-testid="copy-profile-url"]')
    gui.wait(lambda: "Copied the base URL" in gui.first_text(".toasts"), "base URL copied")
    gui.d.execute_script("document.querySelectorAll('.toasts button').forEach(b => b.click())")

    gui.choose(gui.one('[data-testid="add-conditional-rule"]'), "images:true")
    # Conditional rules are listed first: the new one is rule 1, for any model.
    rule = gui.wait(lambda: next((r for r in gui.css('[data-testid="rule"]') if r.find_elements(By.CSS_SELECTOR, '[data-condition="images"]')), None), "the conditional rule")
    assert rule.find_element(By.CSS_SELECTOR, '[data-field="pattern"]').get_attribute("value") == "*"
    # A select's innerText is empty in WebKit: read the chosen option's words.
    said = gui.d.execute_script("return arguments[0].querySelector('[data-condition=images] select').selectedOptions[0].textContent", rule)
    assert said == "has images", said
    gui.choose(rule.find_element(By.CSS_SELECTOR, '[data-testid="targets"] [data-field="backend"]'), "beta")
    gui.fill(rule.find_element(By.CSS_SELECTOR, '[data-testid="targets"] [data-field="model"]'), "beta-vision")
    gui.choose(rule.find_element(By.CSS_SELECTOR, '[data-testid="targets"] [data-field="vision"]'), "true")
    gui.wait(lambda: gui.css('[data-testid="conditional-rules"]') and "Unsaved changes" in gui.text(), "the rule listed as conditional, unsaved")
    gui.shot("mapping-conditional-unsaved")
    gui.click('[data-testid="save-mapping"]')
    gui.wait(lambda: gui.d.execute_script("return document.querySelector('[data-testid=save-mapping]').disabled") and "Unsaved" not in gui.text(), "conditional rule saved")
    gui.shot("mapping-conditional")

    rules = tomllib.loads(CONFIG.read_text())["profiles"]["local"]["rules"]
    conditional = [r for r in rules if "when" in r]
    assert len(conditional) == 1 and conditional[0]["when"] == {"images": True}, rules
    assert conditional[0]["targets"] == [{"backend": "beta", "model": "beta-vision", "vision": True}], conditional
    assert USER_COMMENT in CONFIG.read_text(), "the mapping save dropped the user's comment"

    before_a, before_b = len(alpha.messages()), len(beta.messages())
    reply = gateway_request("claude-sonnet-4-5", content=IMAGE_CONTENT)
    assert reply["content"][0]["text"] == "hello from beta", reply
    assert len(beta.messages()) == before_b + 1 and len(alpha.messages()) == before_a
    assert beta.messages()[-1]["body"]["model"] == "beta-vision", beta.messages()[-1]["body"]
    assert beta.messages()[-1]["body"]["messages"][0]["content"][0]["type"] == "image"
    reply = gateway_request("claude-sonnet-4-5")
    assert reply["content"][0]["text"] == "hello from alpha", reply
    assert len(alpha.messages()) == before_a + 1 and len(beta.messages()) == before_b + 1
    return profile_url


def choose_settings(gui: Gui, language: str, theme: str) -> None:
    gui.nav("settings")
    gui.choose(gui.one('[data-testid="language"]'), language)
    gui.choose(gui.one('[data-testid="theme"]'), theme)
    gui.click('[data-testid="save-settings"]')


def screenshot_matrix(gui: Gui) -> None:
    """Every screen in both languages, both themes and at both window sizes, for people to look at;
    at the 900x600 minimum nothing may overflow sideways."""
    log("screenshots: every screen x language x theme x size")
    started = time.time()
    overflows = []
    wrapped: list[str] = []
    for language, html_lang, overview_label in LANGS:
        for theme in THEMES:
            choose_settings(gui, language, theme)
            gui.wait(
                lambda: gui.d.execute_script("return document.documentElement.dataset.theme") == theme
                and gui.d.execute_script("return document.documentElement.lang") == html_lang
                and gui.first_text('[data-nav="overview"]').strip() == overview_label,
                f"{language} {theme} applied",
            )
            # The "Saved" toast would cover the corner of the first shots.
            gui.d.execute_script("document.querySelectorAll('.toasts button').forEach(b => b.click())")
            for w, h in SIZES:
                gui.d.set_window_size(w, h)
                gui.wait(lambda: gui.d.execute_script("return window.innerWidth") <= w, f"window at {w}x{h}")
                for screen in SCREENS:
                    gui.nav(screen)
                    if screen == "mapping":
                        # The active profile is cloud by now: show local, with its conditional rule.
                        gui.click('[data-profile="local"]')
                        gui.one('[data-testid="conditional-rules"]')
                    time.sleep(0.4)  # charts and lists load; WebDriver can also return a stale frame
                    gui.d.save_screenshot(str(ARTIFACTS / f"{screen}-{language}-{theme}-{w}x{h}.png"))
                    if screen == "mapping":
                        mapping_rules_shot(gui, f"{language}-{theme}-{w}x{h}", wrapped)
                    if (w, h) == (900, 600):
                        sizes = gui.d.execute_script("const m = document.querySelector('main'); return [m.scrollWidth, m.clientWidth]")
                        if sizes[0] > sizes[1] + 1:
                            overflows.append(f"{screen} ({language}, {theme}): main is {sizes[0]}px wide in {sizes[1]}px")
                    assert gui.d.execute_script("return document.documentElement.dataset.theme") == theme, f"{screen} lost the {theme} theme"
    gui.d.set_window_size(1280, 800)
    choose_settings(gui, "en", "system")
    gui.wait(lambda: gui.first_text('[data-nav="overview"]').strip() == "Overview", "English restored")
    log(f"screenshots took {time.time() - started:.0f}s")
    assert not overflows, "screens overflow sideways at 900x600: " + "; ".join(overflows)
    assert not wrapped, "target rows break over two lines: " + "; ".join(wrapped)


def mapping_rules_shot(gui: Gui, variant: str, wrapped: list[str]) -> None:
    """The mapping screen further down: the first rule by name under its heading (the top is in
    the matrix already). Each target row must hold on one line: backend, model, image flag, buttons."""
    n = gui.d.execute_script(
        "return [...document.querySelectorAll('.target')].filter(r => {"
        " const a = r.querySelector('[data-field=backend]').getBoundingClientRect(), b = r.querySelector('.tail').getBoundingClientRect();"
        " return Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2) > 4; }).length"
    )
    if n:
        wrapped.append(f"{n} in mapping ({variant})")
    gui.d.execute_script("document.querySelectorAll('[data-testid=rule]')[1].scrollIntoView({block: 'start'})")
    time.sleep(0.3)
    gui.d.save_screenshot(str(ARTIFACTS / f"mapping-rules-{variant}.png"))
    gui.d.execute_script("document.querySelector('main').scrollTo(0, 0)")


def check_canary() -> None:
    log("canary: in the keychain, nowhere else")
    assert keychain_has(CANARY), "the canary key is not in the Secret Service keychain"
    needle = CANARY.encode()
    keyring_dir = HOME / ".local/share/keyrings"  # gnome-keyring's encrypted store
    hits = grep_tree(HOME, needle, skip=(keyring_dir,)) + grep_tree(CONFIG.parent, needle) + grep_tree(DATA_DIR, needle)
    hits += grep_tree(ARTIFACTS, needle)  # includes the app's own log (tauri-driver.log)
    encrypted_hits = grep_tree(keyring_dir, needle)
    assert not encrypted_hits, f"keyring files hold the canary in plain text: {encrypted_hits}"
    assert not hits, f"canary key leaked into: {hits}"


if __name__ == "__main__":
    sys.exit(main())
