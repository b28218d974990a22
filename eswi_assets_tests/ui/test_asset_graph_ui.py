"""The Dagster UI, started on 127.0.0.1 from the repo's workspace, shows every asset of the code
location and its lineage at /asset-groups, in headless Chromium.

A screenshot of the expanded graph is saved to `$ESWI_TEST_ARTIFACTS/asset-graph.png`, or to the
test's temporary directory when the variable is unset (its path is printed either way).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from eswi_assets.crawl.browser import CHROMIUM_FLAGS
from eswi_assets.definitions import build_definitions
from eswi_assets.settings import Settings

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STARTUP_S = 240
RENDER_S = 120
EDGE = re.compile(r"^M\s*([\d.]+),([\d.]+)C.*?([\d.]+),([\d.]+)$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """dagster-webserver over workspace.yaml, DAGSTER_HOME in tmp, stopped after the module."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"DAGSTER_HOME": str(home), "ESWI_DATA_DIR": str(home / "data")}
    log = (home / "webserver.log").open("w")
    command = [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml"]
    process = subprocess.Popen(
        [*command, "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server joins the group, so both stop together
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster-webserver exited: {(home / 'webserver.log').read_text()}")
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no /server_info after {STARTUP_S}s at {url}")
            time.sleep(1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian chromium and chromium-driver")
    profile = tempfile.mkdtemp(prefix="eswi-ui-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    shown = [f for f in CHROMIUM_FLAGS if not f.startswith("--blink-settings")]  # images on
    for flag in (*shown, f"--user-data-dir={profile}", "--window-size=2400,1500"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    target = Path(os.environ.get("ESWI_TEST_ARTIFACTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@dataclass(frozen=True)
class Box:
    name: str
    x: float
    y: float
    width: float
    height: float

    def holds_y(self, y: float) -> bool:
        return self.y <= y <= self.y + self.height


def dismiss_popups(driver: WebDriver) -> None:
    """The first visit's 'Join the Dagster community' dialog covers the graph: skip it."""
    for button in driver.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
        if button.is_displayed():
            button.click()


def graph_svg(driver: WebDriver):
    return driver.find_element(By.CSS_SELECTOR, "svg[class*='AssetGraphExplorer_svgContainer']")


def expand_all_groups(driver: WebDriver) -> None:
    """Groups start collapsed: the graph background's context menu has 'Expand all groups'.
    Retried, since the first-visit dialog may open over the graph a moment after it renders."""
    menu_item = "//*[@role='menuitem' and contains(., 'Expand all groups')]"
    deadline = time.monotonic() + RENDER_S
    while time.monotonic() < deadline:
        dismiss_popups(driver)
        svg = graph_svg(driver)
        corner = (-svg.size["width"] // 2 + 15, -svg.size["height"] // 2 + 15)  # background
        ActionChains(driver).move_to_element_with_offset(svg, *corner).context_click().perform()
        time.sleep(1)
        items = [e for e in driver.find_elements(By.XPATH, menu_item) if e.is_displayed()]
        if items:
            try:
                items[0].click()
                return
            except ElementClickInterceptedException:  # the dialog opened over the menu
                pass
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        time.sleep(2)
    pytest.fail("the asset graph's context menu never offered 'Expand all groups'")


def asset_boxes(driver: WebDriver) -> list[Box]:
    boxes = []
    for node in graph_svg(driver).find_elements(By.CSS_SELECTOR, "foreignObject"):
        if not node.find_elements(By.CSS_SELECTOR, "[class*='AssetNode_assetNodeContainer']"):
            continue
        [first, *_] = node.find_elements(By.CSS_SELECTOR, "[data-tooltip]")
        size = [float(node.get_attribute(a)) for a in ("x", "y", "width", "height")]
        boxes.append(Box(first.get_attribute("data-tooltip"), *size))
    return boxes


def drawn_edges(driver: WebDriver, boxes: list[Box]) -> set[tuple[str, str]]:
    """(upstream, downstream) for each arrow: it leaves the right side of its upstream node
    and ends just left of its downstream node."""
    edges = set()
    for path in graph_svg(driver).find_elements(By.CSS_SELECTOR, "path[marker-end]"):
        match = EDGE.match(path.get_attribute("d").strip())
        assert match, path.get_attribute("d")
        x1, y1, x2, y2 = map(float, match.groups())
        [source] = [b for b in boxes if abs(b.x + b.width - x1) < 2 and b.holds_y(y1)]
        [target] = [b for b in boxes if 0 <= b.x - x2 < 12 and b.holds_y(y2)]
        edges.add((source.name, target.name))
    return edges


def test_asset_groups_page_shows_every_asset_and_its_lineage(webserver, browser, artifacts):
    defs = build_definitions(Settings())
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    lineage = {
        (parent.to_user_string(), key.to_user_string())
        for key in graph.get_all_asset_keys()
        for parent in graph.get(key).parent_keys
    }

    browser.get(f"{webserver}/asset-groups")
    WebDriverWait(browser, RENDER_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg"))
    WebDriverWait(browser, RENDER_S, ignored_exceptions=(WebDriverException,)).until(
        lambda d: graph_svg(d).find_elements(By.CSS_SELECTOR, "foreignObject")
    )
    expand_all_groups(browser)
    WebDriverWait(browser, RENDER_S).until(
        lambda d: {b.name for b in asset_boxes(d)} >= keys or dismiss_popups(d)
    )
    boxes = asset_boxes(browser)
    screenshot = artifacts / "asset-graph.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")

    assert {b.name for b in boxes} == keys
    assert drawn_edges(browser, boxes) == lineage
