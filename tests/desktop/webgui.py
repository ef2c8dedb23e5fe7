"""WebDriver helpers shared by the desktop end-to-end tests (test_e2e.py, test_first_run.py)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

STEP_TIMEOUT = 20


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
    """The WebDriver steps the flows use. Texts are read with innerText through scripts:
    WebKitWebDriver's element-text endpoint can fail on a changing DOM."""

    def __init__(self, driver: webdriver.Remote, artifacts: Path, prefix: str = "") -> None:
        self.d = driver
        self.artifacts = artifacts
        # Screenshot names of a flow start with this (failure shots included).
        self.prefix = prefix

    def wait(self, cond, what: str, timeout: float = STEP_TIMEOUT):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.2).until(lambda d: cond())
        except Exception as e:  # noqa: BLE001
            self.shot(f"FAILED-{what.replace(' ', '-')}")
            raise AssertionError(f"timed out waiting for {what}") from e

    def css(self, sel: str):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def one(self, sel: str, what: str | None = None):
        return self.wait(lambda: (self.css(sel) or [None])[0], what or sel)

    def click(self, sel: str) -> None:
        self.one(sel).click()

    def text(self) -> str:
        # WebKitWebDriver's element-text endpoint can fail on a changing DOM; innerText does not.
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
        self.d.save_screenshot(str(self.artifacts / f"{self.prefix}{name}.png"))

    def choose(self, el, value: str) -> None:
        """Picks an option of a select. Centred first: the mapping screen's floating Save bar
        covers the bottom of the window, and a click there lands on the bar."""
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        Select(el).select_by_value(value)

    def fill(self, el, value: str) -> None:
        el.clear()
        el.send_keys(value)
