"""A small pool of headless Chromium drivers that render JavaScript pages into their final DOM.

Starting Chromium costs about a second, so drivers are reused; but long-lived browsers leak
memory and a crashed one poisons every later page, so each driver is recycled after N pages
and replaced (with the page retried) as soon as it misbehaves. Selenium Manager never runs:
the driver and browser paths are always given explicitly.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import urllib3.exceptions
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--blink-settings=imagesEnabled=false",
)
# A dead chromedriver shows up as a refused local connection, not as a WebDriverException.
DRIVER_FAILURES = (WebDriverException, urllib3.exceptions.HTTPError, OSError)
_HAS_TEXT = """
return Array.from(document.querySelectorAll(arguments[0]))
    .some(function (e) { return e.textContent.trim().length > 0; });
"""


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "msg", None) or str(exc)
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@dataclass
class ChromiumDriver:
    """A WebDriver plus the throwaway profile directory that must go with it."""

    webdriver: WebDriver
    profile_dir: Path
    page_load_timeout_s: float
    pages: int = 0

    def set_page_load_timeout(self, seconds: float) -> None:
        if seconds != self.page_load_timeout_s:
            self.webdriver.set_page_load_timeout(seconds)
            self.page_load_timeout_s = seconds

    def quit(self) -> None:
        with suppress(*DRIVER_FAILURES):
            self.webdriver.quit()
        shutil.rmtree(self.profile_dir, ignore_errors=True)


def start_chromium(
    chromium_path: str = "/usr/bin/chromium",
    chromedriver_path: str = "/usr/bin/chromedriver",
    page_load_timeout_s: float = 30.0,
) -> ChromiumDriver:
    """Headless Chromium with a fresh profile; loads 'eager'ly, the explicit wait does the rest."""
    profile_dir = Path(tempfile.mkdtemp(prefix="eswi-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    options.page_load_strategy = "eager"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(chromedriver_path), options=options)
    except BaseException:
        shutil.rmtree(profile_dir, ignore_errors=True)
        raise
    driver.set_page_load_timeout(page_load_timeout_s)
    return ChromiumDriver(driver, profile_dir, page_load_timeout_s)


@dataclass(frozen=True)
class RenderResult:
    """The rendered DOM, or why there is none; `attempts` counts driver loads of the page."""

    html: str
    error: str | None
    attempts: int


@dataclass
class _Slot:
    driver: ChromiumDriver | None = None
    spent: bool = False


class BrowserPool:
    """`size` drivers shared by crawler threads; `render()` blocks until one is free.

    Drivers start lazily, so a crawl with no JavaScript source never launches Chromium.
    """

    def __init__(
        self,
        *,
        size: int = 2,
        pages_per_driver: int = 50,
        page_load_timeout_s: float = 30.0,
        chromium_path: str = "/usr/bin/chromium",
        chromedriver_path: str = "/usr/bin/chromedriver",
        max_attempts: int = 2,
        driver_factory: Callable[[], ChromiumDriver] | None = None,
    ) -> None:
        if size < 1 or pages_per_driver < 1 or max_attempts < 1:
            raise ValueError("size, pages_per_driver and max_attempts must be at least 1")
        self.size = size
        self.pages_per_driver = pages_per_driver
        self.max_attempts = max_attempts
        self._factory = driver_factory or (
            lambda: start_chromium(chromium_path, chromedriver_path, page_load_timeout_s)
        )
        self._slots = [_Slot() for _ in range(size)]
        self._idle: queue.Queue[_Slot] = queue.Queue()
        for slot in self._slots:
            self._idle.put(slot)
        self._count_lock = threading.Lock()
        self.drivers_started = 0
        self.drivers_replaced = 0

    def render(
        self,
        url: str,
        *,
        wait_for: str = "article",
        wait_timeout_s: float = 10.0,
        page_load_timeout_s: float | None = None,
        pace: Callable[[str], object] | None = None,
    ) -> RenderResult:
        """Load `url` and wait until `wait_for` holds text; never raises for page trouble.

        A driver that fails (crash, lost session) is replaced and the page retried, up to
        `max_attempts` loads; `pace(url)` runs before each load.
        """
        slot = self._idle.get()
        try:
            error = "browser error"
            for attempt in range(1, self.max_attempts + 1):
                try:
                    driver = self._ready(slot)
                    if pace is not None:
                        pace(url)
                    driver.pages += 1
                    html, error = self._load(
                        driver, url, wait_for, wait_timeout_s, page_load_timeout_s
                    )
                    if error == "page load timeout":
                        slot.spent = True  # a page still loading would bleed into the next one
                    return RenderResult(html, error, attempt)
                except DRIVER_FAILURES as exc:
                    error = f"browser error: {_first_line(exc)}"
                    self._discard(slot, replaced=True)
            return RenderResult(
                "", f"{error} after {self.max_attempts} attempts", self.max_attempts
            )
        finally:
            self._idle.put(slot)

    def close(self) -> None:
        """Quit every driver; call once no render is in flight."""
        for slot in self._slots:
            self._discard(slot)

    def _ready(self, slot: _Slot) -> ChromiumDriver:
        if slot.driver is not None and (slot.spent or slot.driver.pages >= self.pages_per_driver):
            self._discard(slot)
        if slot.driver is None:
            slot.driver = self._factory()
            with self._count_lock:
                self.drivers_started += 1
        return slot.driver

    def _discard(self, slot: _Slot, *, replaced: bool = False) -> None:
        if slot.driver is not None:
            slot.driver.quit()
            if replaced:
                with self._count_lock:
                    self.drivers_replaced += 1
        slot.driver, slot.spent = None, False

    @staticmethod
    def _load(
        driver: ChromiumDriver,
        url: str,
        wait_for: str,
        wait_timeout_s: float,
        page_load_timeout_s: float | None,
    ) -> tuple[str, str | None]:
        if page_load_timeout_s is not None:
            driver.set_page_load_timeout(page_load_timeout_s)
        browser = driver.webdriver
        try:
            browser.get(url)
        except TimeoutException:
            return "", "page load timeout"
        try:
            WebDriverWait(browser, wait_timeout_s, poll_frequency=0.05).until(
                lambda b: b.execute_script(_HAS_TEXT, wait_for)
            )
        except TimeoutException:
            return "", f"render timeout: no text in {wait_for!r} after {wait_timeout_s:g}s"
        except JavascriptException as exc:
            return "", f"bad wait_for selector {wait_for!r}: {exc.msg}"
        return browser.page_source, None
