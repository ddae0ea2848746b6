"""The page at / in a real browser: headless Chromium driven by selenium against ``rnnkit serve``
in a process of its own. Skipped when Chromium, chromedriver or selenium is missing (CI installs
Debian's ``chromium`` and ``chromium-driver`` best-effort).

Set ``RNNKIT_SCREENSHOT_DIR`` to keep the screenshots."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1000,900",
)
SENTENCE = "The dog runs ."


def _missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of ``rnnkit serve clf=... pos=...`` on a free loopback port; stopped afterwards."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    run_dirs: dict[str, Path] = request.getfixturevalue("run_dirs")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "rnnkit", "serve", "--port", str(port)]
    argv += [f"clf={run_dirs['clf']}", f"pos={run_dirs['pos']}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"rnnkit serve exited with {proc.returncode}"
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "rnnkit serve not ready within 60 s"
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def browser(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Headless Chromium with a fresh profile; quit afterwards. Skipped when the installed
    Chromium does not start (a machine problem, not rnnkit's)."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # never let selenium manager download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except WebDriverException as err:
        pytest.skip(f"Chromium did not start: {err.msg or err}")
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def _run_on_page(driver: Any, url: str, model: str, text: str) -> None:
    """Open the page, choose ``model``, type ``text``, press Run and wait for the answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    driver.get(url + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#model option")))
    Select(driver.find_element(By.ID, "model")).select_by_visible_text(model)
    wait.until(lambda d: d.find_element(By.ID, "task").text != "")
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "submit").click()
    wait.until(
        lambda d: (
            d.find_element(By.ID, "error").text or d.find_elements(By.CSS_SELECTOR, "#result > *")
        )
    )
    assert driver.find_element(By.ID, "error").text == ""


def _screenshot(driver: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    assert driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("RNNKIT_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def _api(url: str, model: str, text: str, **options: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/v1/models/{model}/predict", json={"texts": [text], **options}, timeout=30
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def test_classifier_page_shows_the_api_label(server: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    text = "what a great and happy day"
    _run_on_page(browser, server, "clf", text)
    want = _api(server, "clf", text, explain=True)
    assert browser.find_element(By.ID, "task").text == "classify"
    assert browser.find_element(By.CSS_SELECTOR, "#result .label").text == want["label"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#result .bar-row")
    assert len(rows) == len(want["probabilities"])
    best = max(want["probabilities"].values())
    first = rows[0].find_elements(By.TAG_NAME, "span")
    assert first[0].text == want["label"]
    assert first[-1].text == f"{100 * best:.1f} %"
    tokens = browser.find_elements(By.CSS_SELECTOR, "#result .token-box")
    assert [t.text for t in tokens] == want["tokens"]
    _screenshot(browser, tmp_path, "serve-classifier.png")


def test_tagger_page_shows_the_api_tags(server: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _run_on_page(browser, server, "pos", SENTENCE)
    want = _api(server, "pos", SENTENCE)
    assert browser.find_element(By.ID, "task").text == "tag"
    items = browser.find_elements(By.CSS_SELECTOR, "#result .tagged")
    got = [tuple(s.text for s in item.find_elements(By.TAG_NAME, "span")) for item in items]
    assert got == list(zip(want["tokens"], want["tags"], strict=True))
    assert want["tags"] and all(want["tags"])
    _screenshot(browser, tmp_path, "serve-tagger.png")
