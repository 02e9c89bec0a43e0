"""The chat's login page: throttled, and without the API schema (issue 13)."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from qa import Assistant
from seedqa.settings import Settings
from ui.app import build_app
from ui.login_guard import FIRST_WAIT, LoginThrottle
from ui.server import launch


@pytest.fixture(scope="module")
def locked(seed_index, tmp_path_factory):
    data = tmp_path_factory.mktemp("login") / "index"
    shutil.copytree(seed_index.data_dir, data)
    settings = Settings(data_dir=data, cache_dir=seed_index.cache_dir, port=0, auth="carol:secret")
    demo = build_app(Assistant(settings), settings)
    yield launch(demo, settings, block=False)
    demo.close()


def _login(url: str, password: str, user: str = "carol", client=httpx) -> httpx.Response:
    return client.post(url + "login", data={"username": user, "password": password})


def test_wrong_passwords_wait_longer_and_longer(locked):
    assert _login(locked, "nope").status_code == 400  # one miss is free
    assert _login(locked, "nope2").status_code == 400
    refused = _login(locked, "secret")  # even the right one waits its turn
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "Too many failed logins" in refused.json()["detail"]
    started, tries = time.monotonic(), 0
    while time.monotonic() - started < 3:  # a guesser gets a handful of tries, not a hundred
        tries += _login(locked, "guess").status_code == 400
    assert tries <= 3
    time.sleep(8)
    with httpx.Client() as browser:
        assert _login(locked, "secret", client=browser).status_code == 200
        assert browser.get(locked + "config").status_code == 200
    assert _login(locked, "nope").status_code == 400  # the right password cleared the count


def test_the_login_page_carries_no_api_schema(locked):
    page = httpx.get(locked)
    assert page.status_code == 200 and '"auth_required":true' in page.text
    assert "window.gradio_api_info = {};" in page.text
    assert '"/ask"' not in page.text and "named_endpoints" not in page.text
    with httpx.Client() as browser:
        time.sleep(FIRST_WAIT * 16)
        assert _login(locked, "secret", client=browser).status_code == 200
        assert "named_endpoints" in browser.get(locked).text  # logged in: the app's own page


def test_the_throttle_counts_per_key_and_forgets_on_success():
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    keys = ["ip:1.2.3.4", "user:carol"]
    throttle.failed(keys)
    assert throttle.wait(keys) == 0  # one free miss for the user, four for the address
    throttle.failed(keys)
    assert throttle.wait(keys) == pytest.approx(FIRST_WAIT)
    throttle.failed(keys)
    assert throttle.wait(keys) == pytest.approx(2 * FIRST_WAIT)
    throttle.succeeded(keys[1:])
    assert throttle.wait(["user:carol"]) == 0 and throttle.wait(["ip:1.2.3.4"]) == 0
