"""Scripted evaluation: the metric functions on hand-made cases, and `seedqa eval` end to end."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import pytest

from evaluation.metrics import (
    Floor,
    abstention_curve,
    answer_rank,
    compute_metrics,
    curve_area,
    first_hit_rank,
    latency_stats,
    mean_reciprocal_rank,
    percentile,
    recall_at_k,
    retrieval_metrics,
)
from evaluation.questions import (
    Question,
    QuestionsFileError,
    answer_body,
    contains,
    find_any,
    is_correct_passage,
    load_questions,
    normalize,
)
from evaluation.records import EvalResult, IngestStats
from evaluation.run import cited_citations, score
from evaluation.report import summary_table, write_report
from qa.types import Answer, Citation

ROOT = Path(__file__).resolve().parents[1]
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


def citation(text: str, source: str = "/docs/a.txt", n: int = 0) -> Citation:
    return Citation(source=source, title="A", text=text, start=0, end=len(text),
                    score=1.0 - n / 10, chunk_id=f"c{n}")


def question(**fields) -> Question:
    data = {"id": "q", "question": "How many?", "answers": ["three"], "answerable": True}
    return Question.from_dict({**data, **fields})


# --- normalisation and matching ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Geran-5 drone!", "geran 5 drone"),
        ("  A  quick\tfox,\nan owl ", "quick fox owl"),
        ("“Geran-5”", "geran 5"),
        ("90kg (200lb)", "90kg 200lb"),
        ("Then they ate", "then they ate"),  # articles only as whole words
        ("$12 — 50%", "12 50"),
        ("the", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_contains_matches_whole_words_only():
    assert contains("killed at least three people", "Three")
    assert contains("new jet-powered “Geran-5” strike drone", "Geran 5")
    assert not contains("injured 23 people", "3")
    assert not contains("in 2023", "202")
    assert not contains("anything", "the")  # normalises to nothing: never found


def test_find_any_returns_the_first_phrase_found():
    assert find_any("more than 50 drones", ["more than 50", "50"]) == "more than 50"
    assert find_any("about 50 drones", ["more than 50", "50"]) == "50"
    assert find_any("no numbers here", ["50"]) is None


def test_answer_body_drops_citation_markers():
    assert normalize(answer_body("It was **24** [1][2], per [3, 4].")) == "it was 24 per"
    assert not contains(answer_body("Nobody knows [1]."), "1")


# --- questions files -------------------------------------------------------------


def test_load_questions_reads_the_seed_set():
    questions = load_questions(SEED_QUESTIONS)
    assert len(questions) == 16
    assert sum(not q.answerable for q in questions) == 2
    follow_up = next(q for q in questions if q.history)
    assert follow_up.history == ("How many drones did Russia fire at Ukraine overnight?",)
    assert any(len(q.support) == 2 for q in questions)  # `support` given as a list
    assert all(isinstance(q.support, tuple) for q in questions)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x", "question": "Q?", "answers": [], "answerable": true}', "at least one"),
        ('{"id": "x", "question": "Q?", "answers": ["a b"], "answerable": false}', "no answers"),
        ('{"id": "x", "question": "Q?", "answerable": true, "answers": "a"}', "list of strings"),
        ('{"id": "x", "question": "Q?", "answers": ["y"], "answerable": "yes"}', "true or false"),
        ('{"id": "x", "question": "Q?", "answers": ["y"]}', "missing field 'answerable'"),
        ('{"id": "x", "question": "Q?", "answers": ["y"], "answerable": true, "suport": "y"}',
         "unknown field"),
        ("not json", "Expecting value"),
    ],
)
def test_load_questions_names_the_bad_line(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "ok", "question": "Q?", "answers": ["y"], "answerable": true}\n'
                    + line + "\n")
    with pytest.raises(QuestionsFileError, match=rf"q\.jsonl:2: .*{re.escape(message)}"):
        load_questions(path)


def test_load_questions_rejects_duplicate_ids_and_empty_files(tmp_path):
    line = '{"id": "a", "question": "Q?", "answers": ["y"], "answerable": true}\n'
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n" + line)
    with pytest.raises(QuestionsFileError, match="duplicate id 'a'"):
        load_questions(path)
    path.write_text("\n")
    with pytest.raises(QuestionsFileError, match="holds no questions"):
        load_questions(path)


# --- retrieval metrics -----------------------------------------------------------


def test_ranks_recall_and_mrr():
    passages = ["nothing here", "it was three", "three again"]
    assert answer_rank(passages, ["three"]) == 2
    assert answer_rank(passages, ["four"]) is None
    assert first_hit_rank([False, False, True]) == 3
    ranks = [1, 2, None, 5]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 2) == 0.5
    assert recall_at_k(ranks, 10) == 0.75
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 0.5 + 0 + 0.2) / 4)
    assert recall_at_k([], 5) is None and mean_reciprocal_rank([]) is None
    assert retrieval_metrics(ranks, ks=(1, 5)) == {
        "recall@1": 0.25, "recall@5": 0.75, "mrr": pytest.approx(0.425)
    }


def test_correct_passage_prefers_support_then_source():
    with_support = question(support=["killed at least three people"])
    assert is_correct_passage(with_support, "It killed at least three people.", "/x/b.txt")
    assert not is_correct_passage(with_support, "three people died", "/x/b.txt")
    with_source = question(source="Normans.txt")
    assert is_correct_passage(with_source, "three of them", "/corpus/Normans.txt")
    assert not is_correct_passage(with_source, "three of them", "/corpus/Other.txt")
    assert not is_correct_passage(with_source, "four of them", "/corpus/Normans.txt")
    assert is_correct_passage(question(), "three of them", None)  # neither: the answer will do


# --- answers and citations ---------------------------------------------------------


def test_score_correct_answer_with_a_correct_citation():
    q = question(support="at least three people")
    answer = Answer(
        question=q.question,
        text="It killed **at least three** people [2].",
        citations=(citation("unrelated", n=0), citation("killed at least three people", n=1)),
        span="at least three",
        confidence=0.9,
    )
    retrieved = [citation("unrelated", n=0), citation("killed at least three people", n=1)]
    record = score(q, answer, retrieved, seconds=0.5)
    assert record.correct and record.why == "answer contains 'three'"
    assert [c.chunk_id for c in record.citations] == ["c1"]  # only what [2] points at
    assert record.cited_correct
    assert record.answer_rank == 2 and record.passage_rank == 2
    assert record.retrieved == ("a.txt#c0", "a.txt#c1")
    assert record.span_correct is True


def test_score_verdicts():
    q = question()
    abstained = Answer(question="?", text="The documents do not say.", abstained=True,
                       citations=(citation("three"),))
    wrong = Answer(question="?", text="Four [1].", citations=(citation("three"),), span="Four")
    record = score(q, abstained, [])
    assert not record.correct and record.why == "abstained on an answerable question"
    assert record.citations == ()  # an abstention cites nothing
    record = score(q, wrong, [])
    assert not record.correct and record.why == "answer contains none of 'three'"
    assert record.span_correct is False
    unanswerable = question(answers=[], answerable=False)
    assert score(unanswerable, abstained, []).correct
    record = score(unanswerable, wrong, [])
    assert not record.correct and "do not answer" in record.why
    assert record.answer_rank is None and record.passage_rank is None
    assert record.span_correct is None  # only answerable questions have a right phrase


def test_cited_citations_falls_back_to_all_without_markers():
    cites = (citation("a", n=0), citation("b", n=1), citation("c", n=2))
    assert cited_citations(Answer(question="?", text="x [1, 3]", citations=cites)) == [
        cites[0], cites[2]
    ]
    assert cited_citations(Answer(question="?", text="x", citations=cites)) == list(cites)


# --- aggregate metrics -------------------------------------------------------------


def _records():
    """Four answerable questions (two right) and two unanswerable (one abstained)."""
    q = question(support="at least three")
    good = Citation("/d/a.txt", "A", "killed at least three", 0, 21, 0.9, chunk_id="g")
    bad = Citation("/d/a.txt", "A", "unrelated text", 0, 14, 0.5, chunk_id="b")
    none = question(id="u", answers=[], answerable=False)
    answers = [
        (q, Answer("?", "at least three [1] [2]", (good, bad), confidence=0.9), [good], 1.0),
        (q, Answer("?", "three [1]", (bad,), span="three", confidence=0.8), [bad, good], 2.0),
        (q, Answer("?", "four [1]", (good,), span="four", confidence=0.3), [bad], 3.0),
        (q, Answer("?", "not found", (good,), abstained=True, confidence=0.1), [], 4.0),
        (none, Answer("?", "not found", (), abstained=True, confidence=0.2), [bad], 5.0),
        (none, Answer("?", "three [1]", (bad,), confidence=0.7), [bad], 6.0),
    ]
    return [score(q, a, r, seconds=s, retrieve_seconds=s / 10) for q, a, r, s in answers]


def test_compute_metrics():
    metrics = compute_metrics(_records(), k=10,
                              ingest=IngestStats(files=1, chunks=30, seconds=2.0),
                              peak_memory=512.0)
    assert (metrics["questions"], metrics["answerable"], metrics["unanswerable"]) == (6, 4, 2)
    assert metrics["recall@1"] == 0.25  # answer ranks: 1, 2, None, None
    assert metrics["recall@5"] == metrics["recall@10"] == 0.5
    assert metrics["mrr"] == pytest.approx((1 + 0.5) / 4)
    assert metrics["accuracy"] == 0.5
    assert metrics["accuracy_when_answered"] == pytest.approx(2 / 3)
    assert metrics["span_accuracy"] == 0.5  # "three" right, "four" wrong, one without
    assert metrics["abstention"] == 0.5
    assert metrics["false_abstention"] == 0.25
    assert metrics["citation_correctness"] == 0.5  # first cites `good`, second only `bad`
    assert metrics["citation_precision"] == pytest.approx(1 / 3)  # good, bad | bad
    assert metrics["overall"] == 0.5
    assert metrics["seconds_median"] == 3.5
    assert metrics["seconds_p95"] == pytest.approx(5.75)
    assert metrics["chunks_per_second"] == 15.0
    assert metrics["peak_memory_mb"] == 512.0
    shallow = compute_metrics(_records(), k=3)
    assert shallow["recall@1"] == 0.25 and shallow["recall@5"] is None
    assert shallow["recall@3"] == 0.5


def test_metrics_are_none_without_a_denominator():
    answerable_only = [r for r in _records() if r.answerable]
    metrics = compute_metrics(answerable_only)
    assert metrics["abstention"] is None and metrics["abstention_auc"] is None
    assert metrics["accuracy"] == 0.5


def test_percentile_and_latency_stats():
    assert percentile([3, 1, 2], 50) == 2
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1], 101)
    assert latency_stats([1.0, 3.0]) == {"median": 2.0, "p95": 2.9, "mean": 2.0, "max": 3.0}


def test_abstention_curve():
    curve = abstention_curve(answerable=[0.9, 0.6, 0.2], unanswerable=[0.1, 0.5])
    points = [(p["threshold"], p["abstention"], p["false_abstention"]) for p in curve]
    assert points[0] == (0.1, 0.0, 0.0)
    assert points[-1] == (math.inf, 1.0, 1.0)
    # Abstaining below 0.6 catches both unanswerable questions and one answerable one.
    assert (0.6, 1.0, pytest.approx(1 / 3)) in points
    assert curve_area(curve) == pytest.approx(5 / 6)
    assert curve_area(abstention_curve([0.9, 0.8], [0.1, 0.2])) == 1.0


def test_floors():
    metrics = {"accuracy": 0.8, "false_abstention": 0.1, "abstention": None}
    assert Floor("accuracy", 0.75, option="--min-accuracy").check(metrics)["verdict"] == "passed"
    failed = Floor("accuracy", 0.9, option="--min-accuracy").check(metrics)
    assert failed["verdict"] == "failed"
    assert failed["message"] == "floor failed: accuracy = 0.8 is below --min-accuracy 0.9"
    assert Floor("false_abstention", 0.05, at_most=True).check(metrics)["verdict"] == "failed"
    assert "not measured" in Floor("abstention", 0.5).check(metrics)["message"]


# --- report files -----------------------------------------------------------------


def _png_ok(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n")


def test_write_report_from_records(tmp_path):
    result = EvalResult(records=tuple(_records()), k=10, started_at="2026-01-27T00:00:00+00:00",
                        seconds=21.0, peak_memory_mb=300.0,
                        ingest=IngestStats(files=1, chunks=30, seconds=2.0),
                        info={"questions_file": "q.jsonl", "floors": [
                            Floor("accuracy", 0.9, option="--min-accuracy").check({"accuracy": 0.5})
                        ]})
    written = write_report(result, tmp_path)
    assert set(written) >= {"results.json", "results.jsonl", "report.md", "report.html",
                            "recall_at_k.png", "latency.png", "abstention.png"}
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["metrics"]["accuracy"] == 0.5
    assert summary["ingest"]["chunks_per_second"] == 15.0
    assert summary["curves"]["abstention"][-1]["threshold"] is None  # +inf is not JSON
    assert summary["curves"]["recall_at_k"]["k"] == list(range(1, 11))
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [line["correct"] for line in lines] == [True, True, False, False, True, False]
    assert lines[1]["why"] == "answer contains 'three'; no cited passage backs it"
    markdown = (tmp_path / "report.md").read_text()
    assert "| correct, of answerable | 50.0% |" in markdown
    assert "![Answer recall at k](recall_at_k.png)" in markdown
    page = (tmp_path / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3 and all(_png_ok(base64.b64decode(i)) for i in images)
    assert "<td>" in page and "floor failed" not in page  # verdicts, not messages
    assert _png_ok((tmp_path / "latency.png").read_bytes())
    table = summary_table(result)
    assert "6 questions: 4 answerable, 2 unanswerable" in table
    assert "answer recall@5" in table and "50.0%" in table


def test_report_skips_plots_without_data(tmp_path):
    records = tuple(r for r in _records() if r.answerable)
    result = EvalResult(records=records, k=5, started_at="now", seconds=1.0, peak_memory_mb=1.0)
    written = write_report(result, tmp_path)
    assert "abstention.png" not in written
    assert "Abstention trade-off: not enough data." in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "results.json").read_text())["metrics"]["recall@10"] is None
