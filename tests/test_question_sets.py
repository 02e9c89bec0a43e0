"""The news question sets we wrote: well formed, answerable from their article, and
held out where they say.

The reader is fitted on `benchmarks/data/news_fit_questions.jsonl` and on the news
set's even-numbered articles, and reported on its odd-numbered ones: a fitting
question on an odd article, or one the news set also asks, would leak what is
reported into what is fitted.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.common import ROOT
from benchmarks.reader_data import SHARED
from evaluation.questions import Question, find_any, load_questions

NEWS_SET = ROOT / "tests" / "data" / "news_questions.jsonl"
FIT_SET = ROOT / "benchmarks" / "data" / "news_fit_questions.jsonl"
ARTICLES = SHARED / "news" / "articles"  # read there, never copied into the project


def _article(question: Question) -> int:
    """The number of the story a question is about (an unanswerable one of the news set
    names it only in its id, "news-tech_236-3")."""
    return int(re.search(r"_(\d+)(?:\.txt$|-)", question.source or question.id).group(1))


@pytest.mark.parametrize("path", [NEWS_SET, FIT_SET], ids=["news", "news-fit"])
def test_each_question_is_well_formed(path):
    # As `seedqa eval` reads them: known fields, unique ids, answers iff answerable.
    assert load_questions(path)


def test_fitting_questions_stay_off_the_reported_articles():
    fit = load_questions(FIT_SET)
    reported = [q for q in load_questions(NEWS_SET) if _article(q) % 2 == 1]
    assert len(fit) >= 2000 and len(reported) >= 250
    assert all(_article(q) % 2 == 0 for q in fit)
    asked = {q.question.lower() for q in reported}
    assert not [q.id for q in fit if q.question.lower() in asked]


@pytest.mark.skipif(not ARTICLES.is_dir(),
                    reason=f"the BBC stories are not at {ARTICLES} (../shared beside the checkout)")
@pytest.mark.parametrize("path", [NEWS_SET, FIT_SET], ids=["news", "news-fit"])
def test_answers_and_quotes_are_in_their_article(path):
    texts: dict[str, str] = {}
    wrong = []
    for q in filter(lambda q: q.answerable, load_questions(path)):
        if q.source not in texts:
            texts[q.source] = (ARTICLES / q.source).read_text(encoding="utf-8", errors="replace")
        text = texts[q.source]
        # As the evaluation matches answers: after normalising case, punctuation and
        # articles ("New Labour" for the text's '"New" Labour'). Other answers may be
        # forms the text does not use ("6" beside its "six"); one must be there.
        if find_any(text, q.answers) is None:
            wrong.append((q.id, q.answers))
        wrong += [(q.id, quote) for quote in q.support if find_any(text, [quote]) is None]
    assert not wrong, wrong[:10]
