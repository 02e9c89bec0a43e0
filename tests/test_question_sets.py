"""The news question sets we wrote: well formed, answerable from their article, and
held out where they say.

The reader is fitted on `benchmarks/data/news_fit_questions.jsonl` and on the news
set's even-numbered articles, and reported on its odd-numbered ones: a fitting
question on an odd article, or one the news set also asks, would leak what is
reported into what is fitted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaluation.questions import find_any

ROOT = Path(__file__).resolve().parents[1]
NEWS_SET = ROOT / "tests" / "data" / "news_questions.jsonl"
FIT_SET = ROOT / "benchmarks" / "data" / "news_fit_questions.jsonl"
# ../shared beside the checkout (CI has it too); the stories are read there, never copied.
ARTICLES = next((p / "shared" / "news" / "articles" for p in ROOT.parents
                 if (p / "shared" / "news" / "articles").is_dir()), None)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _article(item: dict) -> int:
    """The number of the story a question is about (an unanswerable one of the news set
    names it only in its id, "news-tech_236-3")."""
    return int(re.search(r"_(\d+)(?:\.txt$|-)", item.get("source") or item["id"]).group(1))


@pytest.mark.parametrize("path", [NEWS_SET, FIT_SET], ids=["news", "news-fit"])
def test_each_question_is_well_formed(path):
    items = _lines(path)
    assert len({item["id"] for item in items}) == len(items), "ids repeat"
    for item in items:
        assert item["question"].strip(), item["id"]
        assert item["answerable"] == bool(item["answers"]), item["id"]
        assert all(isinstance(text, str) and text.strip() for text in item.get("history", []))


def test_fitting_questions_stay_off_the_reported_articles():
    fit = _lines(FIT_SET)
    reported = [item for item in _lines(NEWS_SET) if _article(item) % 2 == 1]
    assert len(fit) >= 2000 and len(reported) >= 250
    assert all(_article(item) % 2 == 0 for item in fit)
    asked = {item["question"].lower() for item in reported}
    assert not [item["id"] for item in fit if item["question"].lower() in asked]


@pytest.mark.skipif(ARTICLES is None, reason="../shared/news is not beside this checkout")
@pytest.mark.parametrize("path", [NEWS_SET, FIT_SET], ids=["news", "news-fit"])
def test_answers_and_quotes_are_in_their_article(path):
    texts: dict[str, str] = {}
    wrong = []
    for item in filter(lambda item: item["answerable"], _lines(path)):
        source = item["source"]
        if source not in texts:
            texts[source] = (ARTICLES / source).read_text(encoding="utf-8", errors="replace")
        text = texts[source]
        # As the evaluation matches answers: after normalising case, punctuation and
        # articles ("New Labour" for the text's '"New" Labour'). Other answers may be
        # forms the text does not use ("6" beside its "six"); one must be there.
        if find_any(text, item["answers"]) is None:
            wrong.append((item["id"], item["answers"]))
        if item.get("support") and find_any(text, [item["support"]]) is None:
            wrong.append((item["id"], item["support"]))
    assert not wrong, wrong[:10]
