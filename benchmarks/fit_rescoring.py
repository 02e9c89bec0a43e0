"""Fit `qa.rescoring.WEIGHTS`: how re-scoring weighs its features.

Builds (or reuses) the SQuAD index in --index-dir, collects the re-scoring
candidates of every answerable question with their features through the
shipped retriever (`HybridRetriever.candidates`), and fits a logistic
regression of "the passage contains an accepted answer" on the development
slice: the first 1,000 answerable questions of questions.jsonl, file order.
It prints the weights to paste into qa/rescoring.py, and recall@1/5 and MRR
within the candidates, with the shipped weights and the fitted ones, on the
slice, on the other questions and on all. benchmarks/retrieval.py then
measures the retriever itself.

    .venv/bin/python -m benchmarks.fit_rescoring
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from benchmarks.common import DEFAULT_SQUAD, squad_files
from benchmarks.latency import DEFAULT_INDEX_DIR, open_seedqa

DEVELOPMENT = 1000


def collect(assistant, questions) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features, labels) of each question's re-scoring candidates."""
    from evaluation.questions import find_any

    corpus = assistant.retriever.corpus()
    rows = []
    with click.progressbar(questions, label="candidates", file=None) as bar:
        for question in bar:
            found = [c for c in assistant.retriever.candidates(question.question, 10**6,
                                                                 corpus=corpus) if c.features]
            found.sort(key=lambda c: -c.first_score)  # first-stage order, as re-scoring sees them
            features = np.array([c.features for c in found], dtype=np.float64)
            labels = np.array([find_any(c.chunk.text, question.answers) is not None
                               for c in found])
            rows.append((features, labels))
    return rows


def ranks(rows, weights: np.ndarray) -> list[int | None]:
    """Rank of the first passage with an answer once candidates are sorted by `weights`."""
    from evaluation.metrics import first_hit_rank

    return [first_hit_rank(labels[np.argsort(-(features @ weights), kind="stable")])
            if len(labels) else None for features, labels in rows]


def summary(found: list[int | None]) -> str:
    from evaluation.metrics import retrieval_metrics

    m = retrieval_metrics(found, ks=(1, 5))
    return f"R@1 {m['recall@1']:.4f}  R@5 {m['recall@5']:.4f}  MRR {m['mrr']:.4f}"


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_INDEX_DIR, show_default=True)
@click.option("--c", "strength", type=float, default=1.0, show_default=True,
              help="Inverse regularisation strength of the logistic regression.")
def main(squad: Path, index_dir: Path, strength: float) -> None:
    from sklearn.linear_model import LogisticRegression

    from qa import rescoring
    from evaluation.questions import load_questions

    assistant = open_seedqa(squad_files(squad), index_dir)
    questions = [q for q in load_questions(squad / "questions.jsonl") if q.answerable]
    rows = collect(assistant, questions)
    development = rows[:DEVELOPMENT]
    model = LogisticRegression(C=strength, max_iter=5000).fit(
        np.vstack([features for features, _ in development]),
        np.concatenate([labels for _, labels in development]))
    fitted = np.round(model.coef_[0], 2)
    click.echo(f"fitted WEIGHTS = {tuple(float(w) for w in fitted)}")
    for name, weights in (("shipped", np.array(rescoring.WEIGHTS)), ("fitted", fitted)):
        if len(weights) != development[0][0].shape[1]:
            click.echo(f"{name:8s} does not match the {development[0][0].shape[1]} features")
            continue
        for part, subset in (("slice", development), ("others", rows[DEVELOPMENT:]),
                             ("all", rows)):
            click.echo(f"{name:8s} {part:7s} {summary(ranks(subset, weights))}")


if __name__ == "__main__":
    main()
