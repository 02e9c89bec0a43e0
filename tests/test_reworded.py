"""49 reworded seed questions (tests/data/seed_reworded.jsonl), written for the fitted reader.

Synonyms, other word order, a property asked of a thing named the sentence
before, terse keyword queries, the report's own date, follow-ups, and
unanswerable ones that swap the key names. The reader was never fitted on
them. Not all pass yet: these floors are what the shipped model reaches
(qa/reader/README.md), so that a change that loses ground fails here.
"""

from __future__ import annotations

from pathlib import Path

from evaluation import evaluate, load_questions
from qa import Assistant

REWORDED = Path(__file__).parent / "data" / "seed_reworded.jsonl"


def test_reworded_seed_questions_hold_their_floors(seed_index):
    questions = load_questions(REWORDED)
    assert len(questions) >= 30
    metrics = evaluate(Assistant(seed_index), questions).metrics
    assert metrics["accuracy"] >= 0.80, metrics["accuracy"]  # 35 of 43 answerable
    assert metrics["abstention"] >= 0.80, metrics["abstention"]  # 5 of 6 unanswerable
    assert metrics["false_abstention"] <= 0.05, metrics["false_abstention"]
    # Some support quotes run past a sentence end, so a chunk boundary can fall inside them.
    assert metrics["citation_correctness"] >= 0.9, metrics["citation_correctness"]
