"""The page at / in a real browser: headless Chromium driven by selenium against ``rnnkit serve``
in a process of its own. Skipped when Chromium, chromedriver or selenium is missing (CI installs
Debian's ``chromium`` and ``chromium-driver`` best-effort).

Set ``RNNKIT_SCREENSHOT_DIR`` to keep the screenshots."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serve.conftest import start_server, stop_server

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
    """The URL of ``rnnkit serve clf=… pos=… mt=… lm=…`` on a free loopback port; stopped
    afterwards."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    run_dirs: dict[str, Path] = request.getfixturevalue("run_dirs")
    proc, url = start_server([f"{name}={run_dirs[name]}" for name in ("clf", "pos", "mt", "lm")])
    try:
        yield url
    finally:
        stop_server(proc)


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


def _run_on_page(
    driver: Any, url: str, model: str, text: str, fields: dict[str, str] | None = None
) -> None:
    """Open the page, choose ``model``, type ``text`` (and ``fields``: input id → value), press
    Run and wait for the answer to start."""
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
    for field, value in (fields or {}).items():
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
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
    # each token shaded by its attention weight, which its tooltip states
    titles = [t.get_attribute("title") for t in tokens]
    assert titles == [f"attention {w:.3f}" for w in want["attention"]]
    shades = [t.value_of_css_property("background-color") for t in tokens]
    assert shades[want["attention"].index(max(want["attention"]))] == "rgba(230, 120, 20, 1)"
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


def test_translator_page_draws_the_attention_heatmap(
    server: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    text = "The dog sleeps."
    _run_on_page(browser, server, "mt", text)
    want = _api(server, "mt", text, explain=True)
    assert browser.find_element(By.CSS_SELECTOR, "#result .output").text == want["translation"]
    sources = browser.find_elements(By.CSS_SELECTOR, "#result .heatmap .source")
    assert [s.get_attribute("textContent") for s in sources] == want["source_tokens"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#result .heatmap .target")
    labels = want["tokens"] + ["<eos>"] * (len(want["attention"]) - len(want["tokens"]))
    assert [r.text for r in rows] == labels
    cells = browser.find_elements(By.CSS_SELECTOR, "#result .heatmap .cell")
    assert len(cells) == len(want["attention"]) * len(want["source_tokens"])
    _screenshot(browser, tmp_path, "serve-translator.png")


def test_lm_page_shows_the_continuation_as_it_streams(
    server: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    fields = {"length": "12", "temperature": "1", "seed": "7"}
    _run_on_page(browser, server, "lm", "the", fields)
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#result .output.done")
    )
    want = _api(server, "lm", "the", length=12, temperature=1.0, seed=7)
    generated = browser.find_element(By.CSS_SELECTOR, "#result .generated")
    assert generated.get_attribute("textContent") == want["continuation"]
    assert generated.get_attribute("data-pieces") == "12"  # drawn piece by piece
    assert browser.find_element(By.CSS_SELECTOR, "#result .prompt").text == "the"
    _screenshot(browser, tmp_path, "serve-lm.png")
