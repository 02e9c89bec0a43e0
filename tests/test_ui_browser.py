"""The chat app served for real and driven in a headless Chromium through Selenium.

One app server (real assistant, real index in tmp, seeded with seeds/) serves
every test here; each test opens its own page, which is its own Gradio session.
Needs /usr/bin/chromium and /usr/bin/chromedriver: scripts/install_browser.sh.
Selenium gets the driver path explicitly, so Selenium Manager never downloads.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from qa import Assistant
from seedqa.settings import Settings
from tests.documents import minimal_pdf
from ui.app import build_app
from ui.server import launch

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
QUESTION = "How many drones did Russia fire at Ukraine overnight?"
FOLLOW_UP = "How many of them got through air defences?"
FINAL = "#seedqa-chat .seedqa-answer:not(.seedqa-streaming)"
WAIT = 30  # seconds; an answer takes well under one once the model is loaded

UNTRUSTED = (
    '<img src=x onerror="window.__pwned = 1"> Quarry bulletin '
    "<script>window.__pwned = 2</script>\n\n"
    "The quarry blasting siren sounds at 14:30 every Wednesday, said the site foreman. "
    '<img src=x onerror="window.__pwned = 3"> <b>bold?</b> **stars** [link](http://example.com)\n'
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> str:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("no headless Chromium: run scripts/install_browser.sh (as root)")
    base = tmp_path_factory.mktemp("browser-app")
    settings = Settings(data_dir=base / "index", cache_dir=base / "cache", port=0,  # any free port
                        max_file_mb=0.05)
    assistant = Assistant(settings)
    assistant.add_documents([ROOT / "seeds"])
    demo = build_app(assistant, settings)
    url = launch(demo, settings, block=False)
    yield url
    demo.close()


def _chromium(profile: Path) -> webdriver.Chrome:
    """Headless Chromium with a fresh profile in `profile`; nothing in the background reaches out."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def browser(app_url, tmp_path_factory):
    driver = _chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


class ChatPage:
    """One browser tab on the app: one Gradio session."""

    def __init__(self, driver, url: str) -> None:
        self.driver = driver
        self.wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
        driver.get(url)
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#seedqa-question textarea"))
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#seedqa-documents table"))

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def ask(self, question: str) -> str:
        """Type `question`, send it, wait for its final answer; returns that answer's text."""
        before = len(self.driver.find_elements(By.CSS_SELECTOR, FINAL))
        box = self.find("#seedqa-question textarea")
        box.clear()
        box.send_keys(question)
        self.find("#seedqa-ask").click()
        return self.wait_for_answer(before + 1)

    def wait_for_answer(self, count: int) -> str:
        self.wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, FINAL)) >= count)
        return self.driver.find_elements(By.CSS_SELECTOR, FINAL)[count - 1].text

    def show_citation(self, turn: int, n: int) -> str:
        """Click citation `n` of answer `turn` in the chat; returns the highlighted passage."""
        shown = self.find("#seedqa-passage").get_attribute("innerHTML")
        self.find(f"#seedqa-chat button.seedqa-cite.seedqa-turn-{turn}.seedqa-n-{n}").click()
        mark = "#seedqa-passage mark.seedqa-highlight"
        self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#seedqa-passage").get_attribute(
            "innerHTML") != shown and d.find_elements(By.CSS_SELECTOR, mark))
        return self.text(mark)

    def upload(self, *paths: Path) -> str:
        """Upload files; returns the status once every one of them is reported."""
        self.find("#seedqa-upload input[type=file]").send_keys("\n".join(str(p) for p in paths))
        notices = "#seedqa-status .seedqa-notice"
        self.wait.until(lambda d: all(
            any(p.name in e.text for e in d.find_elements(By.CSS_SELECTOR, notices)) for p in paths))
        return " ".join(e.text for e in self.driver.find_elements(By.CSS_SELECTOR, notices))

    def pwned(self):
        return self.driver.execute_script("return window.__pwned")


def test_seed_question_is_answered_with_a_citation_that_opens_in_context(browser, app_url):
    page = ChatPage(browser, app_url)
    answer = page.ask(QUESTION)
    assert "165" in answer
    assert "Cited passages" in answer and "2026-01-27" in answer

    highlighted = page.show_citation(0, 1)
    context = page.text("#seedqa-passage .seedqa-context")
    assert highlighted and highlighted in context
    assert len(context) > len(highlighted) + 100, "the passage shows inside the text around it"
    assert "Russia fired 165 drones" in context
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "ui-answered-chat.png"))


def test_follow_up_question_uses_the_conversation(browser, app_url):
    page = ChatPage(browser, app_url)
    assert "165" in page.ask(QUESTION)
    assert "24" in page.ask(FOLLOW_UP)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#seedqa-chat .seedqa-question")) == 2


def test_abstention_looks_different(browser, app_url):
    page = ChatPage(browser, app_url)
    answer = page.ask("Who won the 2022 football World Cup?")
    assert "Not in the documents" in answer and "Closest passages" in answer
    assert browser.find_elements(By.CSS_SELECTOR, "#seedqa-chat .seedqa-abstained")


def test_example_question_asks_itself(browser, app_url):
    page = ChatPage(browser, app_url)
    examples = browser.find_elements(By.CSS_SELECTOR, "#seedqa-examples button.seedqa-example")
    from_seed = [e for e in examples if "A heavy Russian drone bombardment" in e.text]  # its title
    assert from_seed
    question = from_seed[0].text
    from_seed[0].click()
    assert "Odesa" in page.wait_for_answer(1)
    assert page.text("#seedqa-chat .seedqa-question") == question


def test_uploaded_documents_are_answerable_at_once(browser, app_url, tmp_path):
    document = tmp_path / "lighthouse-log.md"
    document.write_text("# Lighthouse log\n\nThe keeper of Skerry Point lighthouse is Morag Lindqvist. "
                        "The lamp was relit on 3 March 2025 after the storm.\n")
    pdf = tmp_path / "orchard.pdf"
    pdf.write_bytes(minimal_pdf(["The orchard has 120 apple trees.", "The cider press was bought in 1998."]))
    page = ChatPage(browser, app_url)
    status = page.upload(document, pdf)
    assert "lighthouse-log.md: added" in status and "orchard.pdf: added" in status
    assert "Lighthouse log" in page.text("#seedqa-documents")
    assert "Morag Lindqvist" in page.ask("Who is the keeper of Skerry Point lighthouse?")
    answer = page.ask("When was the cider press bought?")
    # The cited passage is page 2's paragraph (chunks follow paragraphs; pages end them).
    assert "1998" in answer and "page 2" in answer


def test_too_large_upload_is_refused_with_a_message(browser, app_url, tmp_path):
    document = tmp_path / "huge.txt"
    document.write_text("word " * 20_000)  # 100 kB, over this app's 50 kB limit
    page = ChatPage(browser, app_url)
    page.find("#seedqa-upload input[type=file]").send_keys(str(document))
    page.wait.until(lambda d: "huge.txt" in d.find_element(By.TAG_NAME, "body").text)
    assert "exceed the maximum allowed size" in page.text("body")
    assert "huge" not in page.text("#seedqa-documents")


def test_untrusted_document_shows_as_text_and_never_runs(browser, app_url, tmp_path):
    document = tmp_path / "quarry.txt"
    document.write_text(UNTRUSTED)
    page = ChatPage(browser, app_url)
    assert "quarry.txt: added" in page.upload(document)
    answer = page.ask("When does the quarry blasting siren sound?")
    assert "14:30" in answer
    page.show_citation(0, 1)
    passage = page.text("#seedqa-passage")
    assert "<script>window.__pwned = 2</script>" in passage
    assert '<img src=x onerror="window.__pwned = 3">' in passage
    assert "**stars** [link](http://example.com)" in passage
    assert "<img src=x" in page.text("#seedqa-documents")  # the title, literally
    assert page.pwned() is None
    injected = browser.execute_script(
        "return document.querySelectorAll('#seedqa-chat script, #seedqa-passage script, "
        "#seedqa-documents script, img[onerror], a[href^=\"http://example\"]').length")
    assert injected == 0


def test_two_sessions_keep_separate_conversations(browser, app_url, tmp_path):
    other = _chromium(tmp_path / "second-profile")
    try:
        first, second = ChatPage(browser, app_url), ChatPage(other, app_url)
        # Both questions in flight at once, one per session.
        for page, question in ((first, QUESTION), (second, "Who won the 2022 football World Cup?")):
            box = page.find("#seedqa-question textarea")
            box.send_keys(question)
            page.find("#seedqa-ask").click()
        assert "165" in first.wait_for_answer(1)
        assert "Not in the documents" in second.wait_for_answer(1)
        assert "24" in first.ask(FOLLOW_UP)

        first_chat, second_chat = first.text("#seedqa-chat"), second.text("#seedqa-chat")
        assert "World Cup" not in first_chat
        assert QUESTION not in second_chat and FOLLOW_UP not in second_chat
        assert len(other.find_elements(By.CSS_SELECTOR, "#seedqa-chat .seedqa-question")) == 1
    finally:
        other.quit()


def test_the_page_talks_only_to_the_app(browser, app_url):
    """No analytics, fonts or CDNs: every request the page makes goes to the app itself."""
    browser.get_log("performance")  # drop what earlier tests logged
    browser.get_log("browser")
    page = ChatPage(browser, app_url)
    page.ask(QUESTION)
    time.sleep(0.5)
    urls = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            params = message["params"]
            urls.add((params.get("request") or params).get("url", ""))
    assert any(url.startswith(app_url) for url in urls)
    outside = sorted(u for u in urls if u.startswith(("http", "ws")) and not u.startswith(
        (app_url, app_url.replace("http", "ws"))))
    assert outside == []
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # and no script errors (our js_on_load code included)


def test_the_eval_report_opens_with_its_plots(browser, tmp_path):
    """`seedqa eval`'s report.html, opened from disk: three drawn plots and no request out."""
    from click.testing import CliRunner

    from cli.eval import eval_command
    from tests.conftest import SEED_QUESTIONS

    out = tmp_path / "out"
    result = CliRunner().invoke(eval_command, [str(SEED_QUESTIONS), "--docs", str(ROOT / "seeds"),
                                               "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    browser.get_log("performance")  # drop what earlier tests logged
    browser.get((out / "report.html").as_uri())
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script(
        "return [...document.images].every(i => i.complete)"))
    drawn = browser.execute_script("return [...document.images].map(i => i.naturalWidth)")
    assert len(drawn) == 3 and all(width > 100 for width in drawn)
    assert "recall" in browser.find_element(By.TAG_NAME, "body").text.lower()
    messages = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in messages
            if m["method"] == "Network.requestWillBeSent"]
    assert urls and [url for url in urls if url.startswith(("http", "ws"))] == []
