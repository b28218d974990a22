"""A small pool of headless Chromium drivers that render JavaScript pages into their final DOM.

Starting Chromium costs about a second, so drivers are reused; but long-lived browsers leak
memory and a crashed one poisons every later page, so each driver is recycled after N pages
and replaced (with the page retried) as soon as it misbehaves. Selenium Manager never runs:
the driver and browser paths are always given explicitly.

A rendered page is judged by the browser's own response, not by the HTTP pre-check: the main
document's status and headers come from Chrome's performance log (CDP Network events), so a
5xx, 429 or dropped connection on the browser's load is retried with backoff (or Retry-After)
like the plain fetcher does, and an error page is never returned as the page.
"""

from __future__ import annotations

import json
import queue
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import urllib3.exceptions
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from eswi_assets.crawl.fetchers import parse_retry_after

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


@dataclass(frozen=True)
class DocumentResponse:
    """The main document's answer as the browser saw it: a status, or a network error."""

    status: int | None
    retry_after: str | None = None
    network_error: str | None = None


def _header(headers: dict[str, Any], name: str) -> str | None:
    return next((str(v) for k, v in headers.items() if k.lower() == name.lower()), None)


def main_document(events: list[dict[str, Any]], frame_id: str) -> DocumentResponse | None:
    """The last main-frame document response (or failure) in CDP Network events, if any."""
    requests: set[str] = set()
    found: DocumentResponse | None = None
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if params.get("type") == "Document" and params.get("frameId") == frame_id:
            requests.add(params.get("requestId"))
        if params.get("requestId") not in requests:
            continue
        if method == "Network.responseReceived":
            response = params.get("response", {})
            retry_after = _header(response.get("headers", {}), "Retry-After")
            found = DocumentResponse(response.get("status"), retry_after)
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found = DocumentResponse(None, network_error=params.get("errorText", "load failed"))
    return found


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
    main_frame: str | None = None

    def set_page_load_timeout(self, seconds: float) -> None:
        if seconds != self.page_load_timeout_s:
            self.webdriver.set_page_load_timeout(seconds)
            self.page_load_timeout_s = seconds

    def network_events(self) -> list[dict[str, Any]]:
        """CDP Network events since the last call (reading the log empties it)."""
        entries = self.webdriver.get_log("performance")
        return [json.loads(entry["message"])["message"] for entry in entries]

    def main_frame_id(self) -> str:
        """The top-level frame's id, stable for the tab's life, so asked once per driver."""
        if self.main_frame is None:
            tree = self.webdriver.execute_cdp_cmd("Page.getFrameTree", {})
            self.main_frame = tree["frameTree"]["frame"]["id"]
        return self.main_frame

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
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option(
        "perfLoggingPrefs", {"enableNetwork": True, "enablePage": False}
    )
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
    """The rendered DOM, or why there is none; `attempts` counts driver loads of the page.

    `http_status` is the browser's own answer for the main document; `retryable` marks a
    failure that may pass later (5xx, 429, dropped connection, crashed browser).
    """

    html: str
    error: str | None
    attempts: int
    http_status: int | None = None
    retryable: bool = False


LoadKind = Literal["ok", "retry", "timeout", "final"]


@dataclass(frozen=True)
class _Load:
    kind: LoadKind
    error: str | None = None
    status: int | None = None
    retry_after: float | None = None
    html: str = ""


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
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 8.0,
        retry_after_cap_s: float = 30.0,
        driver_factory: Callable[[], ChromiumDriver] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if size < 1 or pages_per_driver < 1 or max_attempts < 1:
            raise ValueError("size, pages_per_driver and max_attempts must be at least 1")
        self.size = size
        self.pages_per_driver = pages_per_driver
        self.max_attempts = max_attempts
        self._backoff = (backoff_initial_s, backoff_max_s, retry_after_cap_s)
        self._sleep = sleep
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
        max_retries: int = 3,
        pace: Callable[[str], object] | None = None,
    ) -> RenderResult:
        """Load `url` and wait until `wait_for` holds text; never raises for page trouble.

        A 5xx, 429 or network error on the browser's load is retried up to `max_retries`
        times with backoff; a timeout once, with a fresh driver; a driver that fails (crash,
        lost session) is replaced and the page retried, up to `max_attempts` drivers.
        `pace(url)` runs before each load.
        """
        slot = self._idle.get()
        try:
            return self._render(
                slot, url, wait_for, wait_timeout_s, page_load_timeout_s, max_retries, pace
            )
        finally:
            self._idle.put(slot)

    def _render(
        self,
        slot: _Slot,
        url: str,
        wait_for: str,
        wait_timeout_s: float,
        page_load_timeout_s: float | None,
        max_retries: int,
        pace: Callable[[str], object] | None,
    ) -> RenderResult:
        attempts = retries = crashes = timeouts = 0
        while True:
            attempts += 1
            try:
                driver = self._ready(slot)
                if pace is not None:
                    pace(url)
                driver.pages += 1
                load = self._load(driver, url, wait_for, wait_timeout_s, page_load_timeout_s)
            except DRIVER_FAILURES as exc:
                self._discard(slot, replaced=True)
                crashes += 1
                if crashes >= self.max_attempts:
                    error = f"browser error: {_first_line(exc)} after {attempts} attempts"
                    return RenderResult("", error, attempts, retryable=True)
                continue
            if load.kind == "timeout":
                slot.spent = True  # a page still loading would bleed into the next one
                timeouts += 1
                if timeouts <= 1:
                    continue
            elif load.kind == "retry" and retries < max_retries:
                retries += 1
                self._sleep(self._wait(retries, load.retry_after))
                continue
            return RenderResult(
                load.html, load.error, attempts, load.status, retryable=load.kind == "retry"
            )

    def _wait(self, retry: int, retry_after: float | None) -> float:
        initial, most, cap = self._backoff
        if retry_after is not None:
            return min(retry_after, cap)
        return min(most, initial * 2 ** (retry - 1)) + random.uniform(0, initial)

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
    ) -> _Load:
        if page_load_timeout_s is not None:
            driver.set_page_load_timeout(page_load_timeout_s)
        browser = driver.webdriver
        frame_id = driver.main_frame_id()
        driver.network_events()  # drop what earlier pages left in the log
        try:
            browser.get(url)
        except TimeoutException:
            return _Load("timeout", "page load timeout")
        except WebDriverException as exc:
            if "net::ERR_" not in (exc.msg or ""):
                raise
            return _Load("retry", f"browser network error: {_first_line(exc)}")
        response = main_document(driver.network_events(), frame_id)
        status = response.status if response is not None else None
        if response is not None and response.network_error is not None:
            return _Load("retry", f"browser network error: {response.network_error}")
        if status is not None and (status == 429 or status >= 500):
            retry_after = parse_retry_after(response.retry_after) if response else None
            return _Load("retry", f"HTTP {status} in the browser", status, retry_after)
        if status is not None and status >= 400:
            return _Load("final", f"HTTP {status} in the browser", status)
        try:
            WebDriverWait(browser, wait_timeout_s, poll_frequency=0.05).until(
                lambda b: b.execute_script(_HAS_TEXT, wait_for)
            )
        except TimeoutException:
            error = f"render timeout: no text in {wait_for!r} after {wait_timeout_s:g}s"
            return _Load("timeout", error, status)
        except JavascriptException as exc:
            return _Load("final", f"bad wait_for selector {wait_for!r}: {exc.msg}", status)
        return _Load("ok", None, status, html=browser.page_source)
