"""Calibrate the extractive answerer on a SQuAD sample: sentence choice and abstention.

    .venv/bin/python benchmarks/calibrate_answerer.py [--squad ../shared/eval/squad]
        [--answerable 400] [--unanswerable 200] [--seed 7]

Ingests the SQuAD corpus into a temporary index, asks a random sample of
questions, and prints:
- how often the chosen sentence holds an accepted answer, for the lexical
  choice alone and re-ranked by embedding similarity (the answerer uses the
  lexical choice: the re-ranking measured no better);
- the abstention threshold for a given false-abstention rate on answerable
  questions, and the share of unanswerable questions it then abstains on.
Results go to benchmarks/results/calibration.json.

The default `abstain_threshold` comes from `benchmarks/answers.py`, which asks
every SQuAD question and calibrates on a fixed slice of them; this script is
the quicker look at a random sample.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from qa import Assistant
from qa.answerer import AnswerRequest
from evaluation.questions import find_any
from seedqa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _sample(path: Path, answerable: int, unanswerable: int, seed: int) -> list[dict]:
    questions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    return (rng.sample([q for q in questions if q["answerable"]], answerable)
            + rng.sample([q for q in questions if not q["answerable"]], unanswerable))


def _features(assistant: Assistant, question: dict, rescored: int = 8) -> dict:
    """The top sentences by word overlap, with their similarity to the question."""
    vector = assistant.index.embed([question["question"]])[0]
    passages = assistant.retriever.rank(question["question"], assistant.settings.top_k, vector)
    request = AnswerRequest(question["question"], tuple(passages),
                            assistant.retriever.corpus().lexical.idf)
    answerer = assistant.answerer
    weights = answerer._weights(request)
    candidates = sorted(answerer._lexical_candidates(request, weights), key=lambda c: -c.score)
    top = candidates[:rescored]
    texts = [passages[c.passage].text[c.span[0] : c.span[1]] for c in top]
    similarities = assistant.index.embed(texts) @ vector if texts else []
    full = AnswerRequest(question["question"], tuple(passages),
                         assistant.retriever.corpus().lexical.idf,
                         query_vector=vector, embed=assistant.index.embed)
    answer = answerer.invoke(full)
    return {
        "answerable": question["answerable"],
        "confidence": answer.confidence,
        "sentences": [
            {"lexical": c.score, "similarity": float(s),
             "holds_answer": find_any(t, question["answers"]) is not None}
            for c, s, t in zip(top, similarities, texts)
        ],
    }


def _sentence_accuracy(rows: list[dict], dense_weight: float) -> float:
    picks = [max(r["sentences"], key=lambda s: s["lexical"] + dense_weight * s["similarity"])
             for r in rows if r["answerable"] and r["sentences"]]
    answerable = sum(r["answerable"] for r in rows)
    return sum(p["holds_answer"] for p in picks) / answerable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad")
    parser.add_argument("--answerable", type=int, default=400)
    parser.add_argument("--unanswerable", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        assistant = Assistant(Settings(data_dir=Path(folder)))
        print(assistant.add_documents([args.squad / "corpus"]).summary())
        sample = _sample(args.squad / "questions.jsonl", args.answerable, args.unanswerable,
                         args.seed)
        rows = [_features(assistant, q) for q in sample]

    accuracy = {f"dense_weight={w}": round(_sentence_accuracy(rows, w), 4)
                for w in (0.0, 0.1, 0.3, 1.0, 3.0)}
    answerable = np.array([r["confidence"] for r in rows if r["answerable"]])
    unanswerable = np.array([r["confidence"] for r in rows if not r["answerable"]])
    thresholds = {}
    for rate in (0.02, 0.035, 0.05, 0.10):
        threshold = float(np.quantile(answerable, rate))
        thresholds[f"false_abstention={rate}"] = {
            "threshold": round(threshold, 4),
            "abstains_on_unanswerable": round(float(np.mean(unanswerable < threshold)), 4),
        }
    results = {"sentence_holds_answer": accuracy, "abstention": thresholds,
               "questions": len(rows), "seconds": round(time.perf_counter() - began, 1)}
    print(json.dumps(results, indent=2))
    out = ROOT / "benchmarks" / "results" / "calibration.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
