"""The chat mounted at /chat by `seedqa serve`, and its /docs page, in headless Chromium,
behind the API's login.

A browser asks for HTTP Basic credentials once and then sends them with every
request to the page's folder; here Chromium is told to send the header itself
(DevTools' extra headers), as a browser does once the user has typed them.
Needs /usr/bin/chromium and /usr/bin/chromedriver: scripts/install_browser.sh.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest

from seedqa.settings import Settings
from tests.api_server import ApiServer
from tests.conftest import SEEDS

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.test_ui_browser import ChatPage, _chromium  # noqa: E402

pytestmark = pytest.mark.browser
LOGIN = "alice:pw-5c1d"


def test_the_mounted_chat_and_the_docs_work_in_a_browser_with_the_login(tmp_path):
    from ingest import ingest_paths

    cache = Path(os.environ["SEEDQA_CACHE_DIR"])
    assert not ingest_paths([SEEDS], Settings(data_dir=tmp_path / "index", cache_dir=cache)).errors
    server = ApiServer.start(tmp_path / "index", cache, {"SEEDQA_AUTH": LOGIN})
    driver = _chromium(tmp_path / "profile")
    try:
        assert httpx.get(f"{server.url}/chat/").status_code == 401
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {
            "Authorization": "Basic " + base64.b64encode(LOGIN.encode()).decode()}})
        page = ChatPage(driver, f"{server.url}/chat/")
        answer = page.ask("How many drones did Russia fire at Ukraine overnight?")
        assert "165" in answer and "[1]" in answer
        assert "165" in page.show_citation(0, 1)

        # /docs: Swagger UI renders every endpoint from files this server serves.
        driver.get_log("performance")  # forget the chat's requests
        driver.get(f"{server.url}/docs")
        WebDriverWait(driver, 30).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 9)
        shown = driver.find_element(By.CSS_SELECTOR, ".swagger-ui").text
        assert "/v1/chat/completions" in shown and "/v1/answer" in shown
        requested = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
        urls = {m["params"]["request"]["url"] for m in requested
                if m.get("method") == "Network.requestWillBeSent"}
        assert urls and all(url.startswith((server.url, "data:")) for url in urls), urls
    finally:
        driver.quit()
        server.stop()
