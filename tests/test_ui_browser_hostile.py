"""The XSS PDF uploaded to the served chat in headless Chromium (issue 13).

pypdf's error text for xss.pdf carries `<svg><a href="javascript:...">`; it
used to reach a warning toast unescaped, and one click on it ran script. Now
the toast carries plain text (file names only) and the status shows the parser's
text escaped. Uses the app server and browser of tests/test_ui_browser.py.
"""

from __future__ import annotations

import pytest

from tests.documents import minimal_pdf
from tests.hostile import xss_pdf
from tests.test_ui_browser import ChatPage, app_url, browser  # noqa: F401  (fixtures)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

pytestmark = pytest.mark.browser

TOAST = "[data-testid='toast-body']"


def test_a_pdf_whose_error_carries_markup_is_shown_as_text(browser, app_url, tmp_path):  # noqa: F811
    bad = tmp_path / "xss.pdf"
    bad.write_bytes(xss_pdf())
    good = tmp_path / "orchard-notes.pdf"
    good.write_bytes(minimal_pdf(["The walled orchard has 64 pear trees."]))
    page = ChatPage(browser, app_url)
    status = page.upload(bad, good)
    assert "orchard-notes.pdf: added" in status
    assert "xss.pdf" in status and "<svg" in status  # the parser's text, shown as text
    page.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, TOAST))
    toast = page.find(TOAST)
    assert "Some files were not added: xss.pdf" in toast.text
    # Nothing in the page is markup that came from the PDF: no SVG link, no javascript: URL.
    selector = 'a[href^="javascript:"], svg a, svg text, #seedqa-status svg'
    found = browser.execute_script("return document.querySelectorAll(arguments[0]).length", selector)
    assert found == 0
    assert "Click to retry" not in toast.text  # the PDF's text is not in the toast at all
    for element in browser.find_elements(By.CSS_SELECTOR, f"{TOAST} *, #seedqa-status .seedqa-notice"):
        try:
            element.click()  # what the attack needed a user to do
        except Exception:
            pass  # not clickable (hidden, covered): nothing to run either
    assert page.pwned() is None and browser.title != "PWNED"
    assert "64 pear trees" in page.ask("How many pear trees does the walled orchard have?")
