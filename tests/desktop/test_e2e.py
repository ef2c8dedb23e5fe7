"""Real-webview end-to-end test of the desktop app (tauri-driver + WebKitWebDriver).

Run through scripts/desktop-e2e.sh, which provides Xvfb, a tray host, a D-Bus session with an
unlocked gnome-keyring, a temporary HOME, and these variables:
  SY_APP (the built binary), SY_TAURI_DRIVER, SY_ARTIFACTS, SWITCHYARD_CONFIG, SWITCHYARD_DATA_DIR,
  SWITCHYARD_TOKEN, SY_LISTEN (127.0.0.1:PORT), DISPLAY.

Flow: add a backend (fake upstream A) in the GUI with a canary key, map claude-sonnet-* to it,
send a request through the gateway and see it in Usage; add a conditional rule ("has images" ->
upstream B) and see a request with an image go to B while a plain one still goes to A; import a
LiteLLM config.yaml (an openai/ model on a fake OpenAI-style server, a sagemaker/ one that is not
imported) through "Import LiteLLM config…" and see a request for the imported name reach that
server; set rate limits on a backend in its form and find them in config.toml; add a named second
key to that backend in its form (keychain, `keys = [...]` in the config, never the secret), see
requests rotate over both, the one the upstream refuses marked in the form and on the mapping
screen's target, then give it a new secret; balance a rule by a strategy and find it in the
config; see a backend with rpm = 1 shown at its limit after a request; turn capture on in Usage
for one request, send it and open its capture from the usage row: the four views show the
request's text and the answer, and no key nor the local token is in the page or the capture;
switch to Cloud
from the tray menu and see the next request go to upstream B, while the local profile's base URL
(as the mapping screen shows it) still routes to A; then check the canary is in the keychain and
nowhere else.

The native open dialog cannot be driven through WebDriver: SWITCHYARD_E2E_OPEN_PATH (honoured by
debug builds only, see src-tauri/src/commands/backends.rs) makes the app take the LiteLLM file
written here as the user's choice.
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
FAKE_LLM = Path(__file__).resolve().parent.parent / "e2e" / "fake_llm.py"
# The LiteLLM proxy config the import reads (the test seam hands its path to the app).
LITELLM_YAML = HOME / "litellm" / "config.yaml"
LITELLM_KEY = f"sk-litellm-{uuid.uuid4().hex}"
# alpha's second key: first one alpha refuses (401), then a good one given in its place.
REFUSED_KEY = f"sk-refused-{uuid.uuid4().hex}"
SECOND_KEY = f"sk-second-{uuid.uuid4().hex}"
# Text only the captured request carries, to find it in the inspector's views.
CAPTURE_MARK = f"inspect-me-{uuid.uuid4().hex[:12]}"
# The capture the inspector flow opened (the screenshot matrix opens it again).
captured: dict[str, str] = {}
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


def start_fake_openai(record: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_LLM), "--style", "openai", "--record", str(record)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on "), f"fake OpenAI server did not start: {line!r}"
    return proc, line.removeprefix("listening on ")


def write_litellm_config(openai_url: str) -> None:
    """A LiteLLM proxy config as a user has it: one model on an OpenAI-compatible server (with a
    key written in the file, which must go to the keychain), one on Bedrock (not importable)."""
    LITELLM_YAML.parent.mkdir(parents=True, exist_ok=True)
    LITELLM_YAML.write_text(
        f"""# The team's LiteLLM proxy
model_list:
  - model_name: team-coder
    litellm_params:
      model: openai/team-coder-7b
      api_base: {openai_url}/v1
      api_key: {LITELLM_KEY}
  - model_name: team-sagemaker
    litellm_params:
      model: sagemaker/jumpstart-dft-meta-textgeneration-llama-2-7b
      aws_region_name: eu-west-1
router_settings:
  num_retries: 2
litellm_settings:
  drop_params: true
"""
    )


def main() -> int:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver_log = open(ARTIFACTS / "tauri-driver.log", "wb")
    record = HOME / "fake-openai.jsonl"
    fake_openai, openai_url = start_fake_openai(record)
    write_litellm_config(openai_url)
    os.environ["SWITCHYARD_E2E_OPEN_PATH"] = str(LITELLM_YAML)
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
                run_flow(gui, alpha, beta, record, openai_url)
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
            fake_openai.terminate()
            fake_openai.wait(10)
    check_canary()
    log("PASS")
    return 0


def run_flow(gui: Gui, alpha: FakeUpstream, beta: FakeUpstream, record: Path, openai_url: str) -> None:
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
    inspect_capture(gui, alpha)

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

    import_litellm(gui, record, openai_url)
    set_rate_limits(gui)
    key_pool(gui, alpha)
    balance_rule(gui)
    rate_limited_target(gui, openai_url)

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


def get_capture(gui: Gui, capture_id: str) -> str:
    """The capture as the engine gives it to the window (its JSON text), through the app's IPC."""
    out = gui.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.__TAURI_INTERNALS__.invoke('get_capture', {id: arguments[0]})"
        ".then(c => done(JSON.stringify(c)), e => done('ERROR ' + JSON.stringify(e)));",
        capture_id,
    )
    assert not out.startswith("ERROR"), out
    return out


def pane_text(gui: Gui, testid: str) -> str:
    return gui.first_text(f'[data-testid="{testid}"] .scroller')


def inspect_capture(gui: Gui, alpha: FakeUpstream) -> None:
    """Usage: capture the next request only; a request through the gateway is captured (the
    window then ends), its row offers Inspect, and the inspector's four views show what the
    client sent, what went to alpha, what came back and what the client got. Neither the key
    alpha got nor the local token the client sent is in the page or in the capture."""
    log("capture one request and open it in the inspector")
    gui.nav("usage")
    gui.one('[data-testid="capture-state"]', "the capture control")
    assert gui.first_text('[data-testid="capture-state"]') == "Off: requests are not captured.", gui.first_text('[data-testid="capture-state"]')
    gui.click('[data-testid="capture-duration"] [data-minutes="10"]')
    gui.click('[data-testid="capture-limit-on"]')
    gui.fill(gui.one('[data-testid="capture-limit"]'), "1")
    gui.click('[data-testid="start-capture"]')
    gui.wait(lambda: gui.first_text('[data-testid="capture-state"]').startswith("Capturing until")
             and "1 more request at most" in gui.first_text('[data-testid="capture-state"]'), "capture on for one request")
    dismiss_toasts(gui)
    gui.shot("capture-on")

    reply = gateway_request("claude-sonnet-4-5", content=f"Say hello to the inspector ({CAPTURE_MARK})")
    assert reply["content"][0]["text"] == "hello from alpha", reply
    assert CAPTURE_MARK in json.dumps(alpha.messages()[-1]["body"])
    # The one request was taken: the window is over, and the screen says so.
    gui.wait(lambda: gui.first_text('[data-testid="capture-state"]') == "Off: requests are not captured.", "capture off after its one request", timeout=30)
    button = gui.wait(lambda: (gui.css('[data-testid="request-table"] tbody tr:first-child [data-testid="inspect-capture"]') or [None])[0],
                      "Inspect on the newest usage row", timeout=30)
    capture_id = button.get_attribute("data-capture")
    captured["id"] = capture_id
    assert len(gui.css('[data-testid="inspect-capture"]')) == 1, "only the captured request offers Inspect"

    # What the engine kept: the request's text, credentials without their values.
    data = get_capture(gui, capture_id)
    capture = json.loads(data)
    assert CAPTURE_MARK in capture["client_request"]["body"], capture["client_request"]
    for secret in (CANARY, TOKEN):
        assert secret not in data, "a key or the local token is in the capture"
    sent_key = next(h for h in capture["attempts"][0]["headers"] if h["name"] == "x-api-key")
    assert sent_key["value"] == "[redacted]", sent_key

    gui.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    gui.shot("usage-captured-row")
    button.click()
    gui.one('[data-testid="inspector"][data-ready="true"]', "the inspector")
    gui.wait(lambda: CAPTURE_MARK in pane_text(gui, "pane-client-request"), "what the client sent")
    assert '"model": "claude-sonnet-4-5"' in pane_text(gui, "pane-client-request")
    gui.wait(lambda: CAPTURE_MARK in pane_text(gui, "pane-upstream-request"), "what went to alpha")
    assert '"model": "alpha-model"' in pane_text(gui, "pane-upstream-request"), pane_text(gui, "pane-upstream-request")
    assert gui.first_text('[data-testid="pane-upstream-request"] h3') == "What went to alpha"
    gui.shot("inspector-request")
    gui.click('[data-testid="pane-client-request"] [data-pane-view="headers"]')
    headers = gui.first_text('[data-testid="pane-client-request"] [data-testid="headers"]')
    assert "x-api-key" in headers and "not kept" in headers, headers
    gui.shot("inspector-headers")
    gui.click('[data-tab="response"]')
    gui.wait(lambda: "hello from alpha" in pane_text(gui, "pane-client-response"), "what the client received")
    gui.wait(lambda: "hello from alpha" in pane_text(gui, "pane-upstream-response"), "what came back from alpha")
    gui.shot("inspector-response")
    gui.click('[data-tab="changes"]')
    gui.one('[data-testid="field-changes"] tr[data-path="model"]', "the changed model")
    after = gui.first_text('[data-testid="field-changes"] tr[data-path="model"] [data-testid="after"]')
    assert after == '"alpha-model"', after
    gui.shot("inspector-changes")
    gui.click('[data-tab="routing"]')
    assert "alpha" in gui.first_text('[data-testid="attempt-list"]')
    gui.shot("inspector-routing")
    source = gui.d.page_source
    for secret in (CANARY, TOKEN):
        assert secret not in source, "a key or the local token is in the page"
    gui.click('[data-testid="close-inspector"]')
    gui.wait(lambda: not gui.css('[data-testid="inspector"]'), "the inspector to close")


def inspector_shots(gui: Gui, variant: str, overflows: list[str]) -> None:
    """The inspector on the capture of the inspector flow, for people to look at: its Request and
    Response views; it must fit the window without sideways scrolling."""
    button = gui.wait(lambda: (gui.css(f'[data-testid="inspect-capture"][data-capture="{captured["id"]}"]') or [None])[0],
                      f"the captured row ({variant})")
    gui.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    gui.one('[data-testid="inspector"][data-ready="true"]', f"the inspector ({variant})")
    gui.wait(lambda: CAPTURE_MARK in pane_text(gui, "pane-client-request"), f"the inspector's request view ({variant})")
    time.sleep(0.4)
    gui.d.save_screenshot(str(ARTIFACTS / f"inspector-{variant}.png"))
    fits = gui.d.execute_script(
        "const d = document.querySelector('[data-testid=inspector]'), c = d.querySelector('.content'), r = d.getBoundingClientRect();"
        " return [r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight, d.scrollWidth <= d.clientWidth + 1,"
        " c.scrollWidth <= c.clientWidth + 1, document.querySelector('[data-testid=close-inspector]').getBoundingClientRect().right <= innerWidth]")
    if not all(fits):
        overflows.append(f"inspector ({variant}): fits/no sideways scroll/content/close shown = {fits}")
    gui.click('[data-tab="response"]')
    gui.wait(lambda: "hello from alpha" in pane_text(gui, "pane-client-response"), f"the inspector's response view ({variant})")
    time.sleep(0.4)
    gui.d.save_screenshot(str(ARTIFACTS / f"inspector-response-{variant}.png"))
    gui.click('[data-testid="close-inspector"]')
    gui.wait(lambda: not gui.css('[data-testid="inspector"]'), "the inspector to close")
    gui.d.execute_script("document.querySelector('main').scrollTo(0, 0)")


def import_litellm(gui: Gui, record: Path, openai_url: str) -> None:
    """Backends -> "Import LiteLLM config…": the dry run's table shows the openai/ entry as
    imported and the sagemaker/ one as not, with the key going to the keychain; Import writes it;
    a request for the imported model name then reaches the fake OpenAI-style server."""
    log("import a LiteLLM config.yaml")
    gui.nav("backends")
    before = CONFIG.read_text()
    gui.click('[data-testid="import-litellm"]')
    dialog = gui.one('[data-testid="import-dialog"]', "the import dialog")
    gui.wait(lambda: gui.css('[data-testid="import-row"]'), "the dry run's rows")
    assert gui.first_text('[data-testid="import-path"]') == str(LITELLM_YAML)
    profile = gui.d.execute_script("return document.querySelector('[data-testid=import-profile]').value")
    assert profile == "local", f"the active profile is not the default choice: {profile!r}"
    imported = gui.first_text('[data-testid="import-imported"]')
    not_imported = gui.first_text('[data-testid="import-not_imported"]')
    assert "team-coder" in imported and "openai/ at" in imported, imported
    assert "team-sagemaker" in not_imported and "SageMaker" in not_imported, not_imported
    # The sagemaker entry starts on line 8 of the file.
    assert any(line.split("\t")[0].strip() == "8" for line in not_imported.splitlines()), not_imported
    assert "OS keychain" in gui.first_text('[data-testid="import-keys"]')
    # Settings with nothing to do are listed too, folded away.
    folded = gui.d.execute_script("return document.querySelector('[data-testid=import-not_needed]').textContent")
    assert "drop_params" in folded, folded
    assert CONFIG.read_text() == before, "the dry run changed the config"
    gui.shot("import-dialog")
    assert dialog is not None

    # Cancel changes nothing; the second look is the one that imports.
    gui.click('[data-testid="cancel-import"]')
    gui.wait(lambda: not gui.css('[data-testid="import-dialog"]'), "the dialog to close")
    assert CONFIG.read_text() == before, "Cancel changed the config"
    gui.click('[data-testid="import-litellm"]')
    gui.wait(lambda: gui.css('[data-testid="import-row"]') and gui.d.execute_script(
        "return !document.querySelector('[data-testid=confirm-import]').disabled"), "Import to be possible")
    n = len(gui.css('[data-testid="import-row"][data-outcome="imported"]'))
    gui.click('[data-testid="confirm-import"]')
    gui.wait(lambda: not gui.css('[data-testid="import-dialog"]'), "the import to finish")
    gui.wait(lambda: f"Imported {n} items into profile local" in gui.first_text(".toasts"), "the import's toast")
    toast = gui.first_text(".toasts")
    assert "saved as" in toast and ".toml" in toast, toast
    gui.shot("import-done")

    text = CONFIG.read_text()
    config = tomllib.loads(text)
    assert USER_COMMENT in text, "the import dropped the user's comment"
    assert LITELLM_KEY not in text, "the key from the LiteLLM file was written into the config"
    assert keychain_has(LITELLM_KEY), "the key from the LiteLLM file is not in the keychain"
    backend = next(b for b in config["backends"] if b["base_url"] == f"{openai_url}/v1")
    assert backend["kind"] == "openai_chat", backend
    rule = next(r for r in config["profiles"]["local"]["rules"] if r.get("match") == "team-coder")
    assert rule["targets"] == [{"backend": backend["id"], "model": "team-coder-7b"}], rule
    assert not any("sagemaker" in json.dumps(r) for r in config["profiles"]["local"]["rules"]), config["profiles"]["local"]
    gui.wait(lambda: gui.css(f'[data-backend="{backend["id"]}"]'), "the imported backend in the list")

    log("a request for the imported model name reaches the fake OpenAI-style server")
    reply = gateway_request("team-coder")
    assert reply["content"][0]["text"] == "Hello from the fake openai server.", reply
    calls = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    sent = [c for c in calls if c["path"] == "/v1/chat/completions"]
    assert sent and sent[-1]["body"]["model"] == "team-coder-7b", calls

    log("the mapping screen shows the imported rule")
    gui.nav("mapping")
    gui.click('[data-profile="local"]')
    gui.wait(lambda: any(
        r.find_element(By.CSS_SELECTOR, '[data-field="pattern"]').get_attribute("value") == "team-coder"
        for r in gui.css('[data-testid="rule"]')), "the imported rule")



def set_rate_limits(gui: Gui) -> None:
    """The backend form's Limits: rpm and tpm reach config.toml (comments kept) and the list
    says them in words."""
    log("rate limits on alpha-renamed in its form")
    gui.nav("backends")
    edit_backend(gui, "alpha-renamed")
    gui.fill(gui.one('input[name="rpm"]'), "60")
    gui.fill(gui.one('input[name="tpm"]'), "200000")
    gui.d.execute_script("document.querySelector('[data-testid=limits-section]').scrollIntoView({block: 'center'})")
    gui.shot("backend-limits")
    gui.click('[data-testid="save-backend"]')
    gui.wait(lambda: gui.first_text('[data-backend="alpha-renamed"] [data-testid="limits"]') == "60 requests/min · 200k tokens/min",
             "the limits in words in the list")
    text = CONFIG.read_text()
    backend = next(b for b in tomllib.loads(text)["backends"] if b["id"] == "alpha-renamed")
    assert backend.get("rpm") == 60 and backend.get("tpm") == 200000, backend
    assert USER_COMMENT in text, "saving the limits dropped the user's comment"
    assert "timeout_connect_s" not in text, f"the app wrote defaults out:\n{text}"
    # A request still goes through (one of the 60 a minute).
    reply = gateway_request("claude-sonnet-4-5")
    assert reply["content"][0]["text"] == "hello from alpha", reply


def key_pool(gui: Gui, alpha: FakeUpstream) -> None:
    """A named second key for alpha-renamed, added in its form: it goes to the keychain, the
    config lists `keys = ["default", "backup"]` and never a secret. Requests use the keys in turn;
    the one alpha refuses is set aside (the next key answers), and the form and the mapping screen
    say so; a new secret on its row makes it ready again."""
    log("a named second key for alpha-renamed, in its form")
    alpha.reject_keys.add(REFUSED_KEY)
    gui.nav("backends")
    edit_backend(gui, "alpha-renamed")
    press(gui, '[data-testid="add-another-key"]')
    gui.fill(gui.one('input[name="key_name"]'), "backup")
    gui.fill(gui.one('input[name="new_key"]'), REFUSED_KEY)
    gui.d.execute_script("document.querySelector('[data-testid=add-key-form]').scrollIntoView({block: 'center'})")
    gui.shot("backend-add-key")
    press(gui, '[data-testid="confirm-add-key"]')
    gui.wait(lambda: gui.css('[data-testid="keys-section"] [data-key="backup"]'), "the pool listed in the form")
    assert not gui.d.execute_script("return [...document.querySelectorAll('input')].some(i => i.value.startsWith('sk-'))"), \
        "a secret stayed in the form after it was stored"
    text = CONFIG.read_text()
    backend = next(b for b in tomllib.loads(text)["backends"] if b["id"] == "alpha-renamed")
    assert backend.get("keys") == ["default", "backup"], backend
    for secret in (REFUSED_KEY, CANARY):
        assert secret not in text, "a key was written into the config"
    assert USER_COMMENT in text, "adding a key dropped the user's comment"
    assert keychain_has(REFUSED_KEY), "the named key is not in the keychain"

    log("requests use both keys; the refused one is set aside and the other answers")
    before = len(alpha.messages())
    for _ in range(3):
        reply = gateway_request("claude-sonnet-4-5")
        assert reply["content"][0]["text"] == "hello from alpha", reply
    sent = alpha.keys_sent()[before:]
    assert REFUSED_KEY in sent and CANARY in sent, "requests did not go over both keys"
    # Once refused, the key is not tried again: the other requests went with the good one.
    assert sent.count(REFUSED_KEY) == 1, sent.count(REFUSED_KEY)
    backup = '[data-testid="keys-section"] [data-key="backup"] [data-testid="key-health"]'
    gui.wait(lambda: gui.first_text(backup).startswith("Refused (401) since"), "the refused key marked in the form", timeout=15)
    assert gui.first_text(backup).endswith("set it anew."), gui.first_text(backup)
    gui.d.execute_script("document.querySelector('[data-testid=keys-section]').scrollIntoView({block: 'center'})")
    gui.shot("backend-key-refused")

    log("the mapping screen says the pool's trouble on alpha-renamed's target")
    press(gui, '[data-testid="cancel-backend"]')
    gui.nav("mapping")
    gui.click('[data-profile="local"]')
    # The warning first; the backend's load this minute (it has rpm / tpm) follows it.
    trouble = "1 of 2 keys refused: set it anew in Backends."
    gui.wait(lambda: any(gui.txt(e).startswith(trouble) for e in gui.css('[data-testid="target-state"]')), "the pool's trouble on the target")
    gui.d.execute_script("[...document.querySelectorAll('[data-testid=target-state]')].find(e => e.innerText.includes('keys refused')).scrollIntoView({block: 'center'})")
    gui.shot("mapping-key-refused")

    log("a new secret for the refused key, on its row")
    gui.nav("backends")
    edit_backend(gui, "alpha-renamed")
    press(gui, '[data-testid="keys-section"] [data-key="backup"] [data-testid="replace-key"]')
    gui.fill(gui.one('input[name="replace_key"]'), SECOND_KEY)
    press(gui, '[data-testid="keys-section"] [data-key="backup"] [data-testid="save-key"]')
    gui.wait(lambda: gui.first_text(backup) == "Ready", "the key ready again")
    assert keychain_has(SECOND_KEY) and not keychain_has(REFUSED_KEY), "the new secret did not replace the old one in the keychain"
    assert SECOND_KEY not in CONFIG.read_text()
    press(gui, '[data-testid="cancel-backend"]')
    before = len(alpha.messages())
    for _ in range(2):
        reply = gateway_request("claude-sonnet-4-5")
        assert reply["content"][0]["text"] == "hello from alpha", reply
    assert SECOND_KEY in alpha.keys_sent()[before:], "the key given anew was not used again"

    log("usage names the key a request went with")
    gui.nav("usage")
    gui.wait(lambda: any("key backup" in t for t in gui.row_texts()), "a usage row with the key's name")
    gui.d.execute_script("document.querySelector('[data-testid=row-key]').closest('tr').scrollIntoView({block: 'center'})")
    gui.shot("usage-key")


def balance_rule(gui: Gui) -> None:
    """The claude-sonnet-* rule balanced by "fastest first answer" in the mapping screen, saved:
    the config's rule carries the strategy."""
    log("balance a rule by a strategy in the mapping screen")
    gui.nav("mapping")
    gui.click('[data-profile="local"]')
    rule = gui.wait(lambda: next((r for r in gui.css('[data-testid="rule"]')
                                  if r.find_element(By.CSS_SELECTOR, '[data-field="pattern"]').get_attribute("value") == "claude-sonnet-*"), None),
                    "the claude-sonnet-* rule")
    balanced = rule.find_element(By.CSS_SELECTOR, '[data-strategy="balanced"]')
    gui.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", balanced)
    balanced.click()
    by = gui.wait(lambda: (rule.find_elements(By.CSS_SELECTOR, '[data-testid="balance-by"]') or [None])[0], "the criterion to balance by")
    gui.choose(by, "lowest_latency")
    gui.wait(lambda: "answering fastest" in gui.txt(rule.find_element(By.CSS_SELECTOR, '[data-testid="strategy-help"]')), "the strategy explained")
    gui.shot("mapping-balanced")
    gui.click('[data-testid="save-mapping"]')
    gui.wait(lambda: gui.d.execute_script("return document.querySelector('[data-testid=save-mapping]').disabled") and "Unsaved" not in gui.text(), "the strategy saved")
    text = CONFIG.read_text()
    saved = next(r for r in tomllib.loads(text)["profiles"]["local"]["rules"] if r.get("match") == "claude-sonnet-*")
    assert saved.get("strategy") == "lowest_latency", saved
    assert USER_COMMENT in text, "the mapping save dropped the user's comment"
    reply = gateway_request("claude-sonnet-4-5")
    assert reply["content"][0]["text"] == "hello from alpha", reply


def rate_limited_target(gui: Gui, openai_url: str) -> None:
    """The imported backend limited to 1 request a minute in its form; after one request its
    target on the mapping screen says it is at its limit."""
    backend = next(b for b in tomllib.loads(CONFIG.read_text())["backends"] if b["base_url"] == f"{openai_url}/v1")["id"]
    log(f"rpm = 1 on {backend}; one request puts it at its limit")
    gui.nav("backends")
    edit_backend(gui, backend)
    gui.fill(gui.one('input[name="rpm"]'), "1")
    press(gui, '[data-testid="save-backend"]')
    gui.wait(lambda: gui.first_text(f'[data-backend="{backend}"] [data-testid="limits"]') == "1 request/min", "rpm 1 in the list")
    reply = gateway_request("team-coder")
    assert reply["content"][0]["text"] == "Hello from the fake openai server.", reply
    gui.nav("mapping")
    gui.click('[data-profile="local"]')
    gui.wait(lambda: any(gui.txt(e).startswith("At its rate limit until") for e in gui.css('[data-testid="target-state"]')),
             "the target at its limit", timeout=15)
    gui.d.execute_script("[...document.querySelectorAll('[data-testid=target-state]')].find(e => e.innerText.startsWith('At its rate limit')).scrollIntoView({block: 'center'})")
    gui.shot("mapping-rate-limited")


def edit_backend(gui: Gui, backend_id: str) -> None:
    gui.one(f'[data-backend="{backend_id}"]')
    gui.d.execute_script(
        "[...document.querySelector(`[data-backend='${arguments[0]}']`).querySelectorAll('button')]"
        ".find(b => b.dataset.testid === 'edit-backend').click()", backend_id
    )
    gui.one('[data-testid="backend-editor"]')


def press(gui: Gui, sel: str) -> None:
    """Clicks a form's button where a toast cannot cover it (toasts sit at the bottom right)."""
    dismiss_toasts(gui)
    el = gui.one(sel)
    gui.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


def dismiss_toasts(gui: Gui) -> None:
    gui.d.execute_script("document.querySelectorAll('.toasts button').forEach(b => b.click())")


def choose_settings(gui: Gui, language: str, theme: str) -> None:
    # A long toast (the import's) can sit over the Appearance selects at the bottom.
    dismiss_toasts(gui)
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
                    if screen == "backends" and (w, h) == (900, 600):
                        import_and_limits_shots(gui, f"{language}-{theme}-{w}x{h}", overflows)
                    if screen == "usage":
                        inspector_shots(gui, f"{language}-{theme}-{w}x{h}", overflows)
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


def import_and_limits_shots(gui: Gui, variant: str, overflows: list[str]) -> None:
    """The import dialog (previewing the LiteLLM file into "cloud", where it is still new) and the
    backend form's Limits, for people to look at; both must fit the window without sideways
    scrolling."""
    gui.click('[data-testid="import-litellm"]')
    gui.wait(lambda: gui.css('[data-testid="import-row"]'), f"the import dialog ({variant})")
    gui.choose(gui.one('[data-testid="import-profile"]'), "cloud")
    gui.wait(lambda: gui.d.execute_script(
        "return !document.querySelector('[data-testid=confirm-import]').disabled"), f"the preview into cloud ({variant})")
    time.sleep(0.4)
    gui.d.save_screenshot(str(ARTIFACTS / f"import-dialog-{variant}.png"))
    fits = gui.d.execute_script(
        "const d = document.querySelector('[data-testid=import-dialog]'), r = d.getBoundingClientRect(),"
        " b = d.querySelector('.body');"
        " return [r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight, b.scrollWidth <= b.clientWidth + 1,"
        " !!d.querySelector('[data-testid=confirm-import]').getBoundingClientRect().height]")
    if not all(fits):
        overflows.append(f"import dialog ({variant}): fits/no sideways scroll/buttons shown = {fits}")
    gui.click('[data-testid="cancel-import"]')
    gui.wait(lambda: not gui.css('[data-testid="import-dialog"]'), "the import dialog to close")

    edit_backend(gui, "alpha-renamed")
    gui.d.execute_script("document.querySelector('[data-testid=keys-section]').scrollIntoView({block: 'center'})")
    time.sleep(0.4)
    gui.d.save_screenshot(str(ARTIFACTS / f"backend-keys-{variant}.png"))
    cut = gui.d.execute_script(
        "return [...document.querySelectorAll('[data-testid=keys-section] button')].filter(b => b.getBoundingClientRect().right > innerWidth).length")
    if cut:
        overflows.append(f"backend keys ({variant}): {cut} buttons past the window's edge")
    gui.d.execute_script("document.querySelector('[data-testid=limits-section]').scrollIntoView({block: 'center'})")
    time.sleep(0.4)
    gui.d.save_screenshot(str(ARTIFACTS / f"backend-limits-{variant}.png"))
    sizes = gui.d.execute_script("const m = document.querySelector('main'); return [m.scrollWidth, m.clientWidth]")
    if sizes[0] > sizes[1] + 1:
        overflows.append(f"backend form ({variant}): main is {sizes[0]}px wide in {sizes[1]}px")
    press(gui, '[data-testid="cancel-backend"]')
    gui.wait(lambda: not gui.css('[data-testid="backend-editor"]'), "the backend form to close")
    gui.d.execute_script("document.querySelector('main').scrollTo(0, 0)")


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
    log("canary: in the keychain, nowhere else (nor any other key the GUI was given)")
    assert keychain_has(CANARY), "the canary key is not in the Secret Service keychain"
    assert keychain_has(SECOND_KEY), "the pool's second key is not in the Secret Service keychain"
    keyring_dir = HOME / ".local/share/keyrings"  # gnome-keyring's encrypted store
    for secret in (CANARY, REFUSED_KEY, SECOND_KEY):
        needle = secret.encode()
        hits = grep_tree(HOME, needle, skip=(keyring_dir,)) + grep_tree(CONFIG.parent, needle) + grep_tree(DATA_DIR, needle)
        hits += grep_tree(ARTIFACTS, needle)  # includes the app's own log (tauri-driver.log)
        encrypted_hits = grep_tree(keyring_dir, needle)
        assert not encrypted_hits, f"keyring files hold a key in plain text: {encrypted_hits}"
        assert not hits, f"a key leaked into: {hits}"


if __name__ == "__main__":
    sys.exit(main())
