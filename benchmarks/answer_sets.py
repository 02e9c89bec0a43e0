"""Answers on the question sets, seedqa against its previous answerer and the tutorial recipe.

For each set (news: tests/data/news_questions.jsonl over ../shared/news;
reworded: tests/data/seed_reworded.jsonl over seeds/; squad: the shared
SQuAD set) three systems answer in the same run on the same machine:
- seedqa, this working tree;
- the previous answerer: `seedqa eval` of git revision `--previous` (default:
  the last commit before the fitted reader), run from a temporary worktree;
- the LangChain tutorial's recipe (benchmarks/tutorial.py).
Every figure is also given on the held-out part of a set: the news articles
with odd file numbers (the reader is fitted on the even ones; see
qa/reader/README.md), all of the reworded set (never fitted on); SQuAD's
figures on folds not fitted are in benchmarks/results/reader.json.

    .venv/bin/python -m benchmarks.answer_sets                 # news and reworded, ~10 min
    .venv/bin/python -m benchmarks.answer_sets --sets squad    # ~40 min more

Writes benchmarks/results/answer_sets.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()
from benchmarks.common import DEFAULT_SQUAD, ROOT, write_result
from evaluation import evaluate, load_questions
from evaluation.metrics import compute_metrics

SETS = {
    "news": (ROOT / "tests" / "data" / "news_questions.jsonl", ROOT.parent / "shared" / "news" / "articles"),
    "reworded": (ROOT / "tests" / "data" / "seed_reworded.jsonl", ROOT / "seeds"),
    "squad": (DEFAULT_SQUAD / "questions.jsonl", DEFAULT_SQUAD / "corpus"),
}
PREVIOUS = "52d22cd"  # main before the fitted reader landed
REPORTED = ("questions", "answerable", "accuracy", "span_accuracy", "abstention",
            "false_abstention", "citation_correctness", "recall@1", "recall@5", "seconds_median",
            "seconds_p95")
_NUMBER = re.compile(r"_(\d+)-\d+$")


def held_out(name: str, question_id: str) -> bool:
    """News questions on odd-numbered articles were never fitted on; the other sets never were."""
    if name != "news":
        return name == "reworded"
    match = _NUMBER.search(question_id)
    return bool(match) and int(match.group(1)) % 2 == 1


def figures(name: str, records) -> dict:
    def pick(chosen):
        metrics = compute_metrics(chosen, 10)
        return {key: metrics.get(key) for key in REPORTED}

    result = {"all": pick(records)}
    kept = [r for r in records if held_out(name, r.id)]
    if kept and len(kept) < len(records):
        result["held_out"] = pick(kept)
    return result


def run_seedqa(name: str, questions, docs: Path, limit: int | None) -> list:
    from qa import Assistant
    from seedqa.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        assistant = Assistant(Settings(data_dir=Path(folder) / "index"))
        assistant.add_documents([docs])
        return list(evaluate(assistant, questions).records)


def run_tutorial(questions, docs: Path) -> list:
    from benchmarks.tutorial import TutorialAssistant

    files = sorted(p for p in docs.rglob("*.txt"))
    with tempfile.TemporaryDirectory() as folder:
        return list(evaluate(TutorialAssistant(files, Path(folder)), questions).records)


def run_previous(revision: str, path: Path, docs: Path, limit: int | None) -> list:
    """`seedqa eval` of `revision`, from a temporary worktree, with this venv."""
    from evaluation.records import CitationCheck, QuestionRecord

    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), revision], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            out = Path(folder) / "out"
            command = [sys.executable, "-m", "cli", "eval", str(path), "--docs", str(docs),
                       "--out", str(out), "--no-progress"]
            if not (tree / "cli").is_dir():  # before the restructuring
                command[1:3] = ["-m", "seedqa.cli"]
            if limit:
                command += ["--limit", str(limit)]
            env = {**os.environ, "PYTHONPATH": str(tree)}
            subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True)
            rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           capture_output=True)
    fields = set(QuestionRecord.__dataclass_fields__)
    return [QuestionRecord(**{**{k: v for k, v in row.items() if k in fields},
                              "history": tuple(row["history"]), "accepted": tuple(row["accepted"]),
                              "retrieved": tuple(row["retrieved"]),
                              "citations": tuple(CitationCheck(**c) for c in row["citations"])})
            for row in rows]


@click.command()
@click.option("--sets", default="news,reworded", show_default=True,
              help="Comma-separated: news, reworded, squad.")
@click.option("--previous", default=PREVIOUS, show_default=True,
              help="Git revision of the previous answerer.")
@click.option("--limit", type=click.IntRange(1), default=None, help="First N questions of each set.")
def main(sets: str, previous: str, limit: int | None) -> None:
    results = {}
    for name in sets.split(","):
        path, docs = SETS[name]
        questions = load_questions(path)[:limit]
        results[name] = {
            "seedqa": figures(name, run_seedqa(name, questions, docs, limit)),
            "previous": figures(name, run_previous(previous, path, docs, limit)),
            "tutorial": figures(name, run_tutorial(questions, docs)),
        }
        for system, found in results[name].items():
            for part, metrics in found.items():
                click.echo(f"{name:9} {system:9} {part:9} " + "  ".join(
                    f"{key} {value:.3f}" for key, value in metrics.items()
                    if isinstance(value, float)))
    out = write_result("answer_sets", {"sets": sets, "previous": previous, "limit": limit},
                       {"results": results})
    click.echo(f"Wrote {out}")


if __name__ == "__main__":
    main()
