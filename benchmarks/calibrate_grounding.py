"""Calibrate the grounding check's threshold on claims built from SQuAD 2.0.

    .venv/bin/python -m benchmarks.calibrate_grounding [--squad ../shared/eval/squad]
        [--questions 600] [--seed 11]

For a random sample of answerable questions whose answer appears in their
article, it builds claims and the passage each cites (a SQuAD paragraph):

supported
  quote      the paragraph's sentence that holds the answer, cited to that paragraph
  restated   "<question without its question mark>: <answer>." cited to that paragraph
             (the question's words plus the answer, as an LLM might restate them)
unsupported
  wrong_fact     the restated claim with another question's answer in place of the
                 true one (a hallucinated value), cited to the true paragraph
  wrong_passage  the restated claim cited to another paragraph of the same article
                 that does not hold the answer (on topic, but not the source)
  off_topic      the restated claim cited to a paragraph of another article

Half the questions choose the threshold (the one with the best balanced
accuracy: the mean of the share of supported claims kept and of unsupported
claims flagged); the other half report how that threshold does. Results go to
benchmarks/results/grounding.json; put the threshold in
SEEDQA_LLM_GROUNDING_THRESHOLD's default (seedqa/settings.py).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import numpy as np

from qa.grounding import GroundingCheck
from qa.lexical import LexicalIndex
from seedqa.settings import Settings
from index import Index
from seedqa.text import sentences

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = ("quote", "restated")
UNSUPPORTED = ("wrong_fact", "wrong_passage", "off_topic")


def _paragraphs(corpus: Path) -> dict[str, list[str]]:
    """Article file name → its paragraphs (the title line left out)."""
    articles = {}
    for path in sorted(corpus.glob("*.txt")):
        blocks = [b.strip() for b in re.split(r"\n\s*\n", path.read_text("utf-8")) if b.strip()]
        articles[path.name] = blocks[1:] if len(blocks) > 1 else blocks
    return articles


def _restated(question: str, answer: str) -> str:
    return f"{question.strip().rstrip('?').strip()}: {answer}."


def _examples(questions: list[dict], articles: dict[str, list[str]], count: int,
              rng: random.Random) -> list[dict]:
    """Claims of every kind for up to `count` answerable questions, with their passage."""
    usable = []
    for q in questions:
        if not q["answerable"] or q.get("source") not in articles:
            continue
        answer = q["answers"][0]
        holding = [p for p in articles[q["source"]] if answer in p]
        if holding:
            usable.append((q, answer, holding[0]))
    rng.shuffle(usable)
    all_answers = [a for _, a, _ in usable]
    names = sorted(articles)
    rows = []
    for number, (q, answer, passage) in enumerate(usable[:count]):
        group = number % 2  # 0: calibrate, 1: report
        restated = _restated(q["question"], answer)
        spans = [passage[b:e] for b, e in sentences(passage)]
        quote = next((s for s in spans if answer in s), passage)
        others = [a for a in all_answers if a.lower() not in passage.lower() and a != answer]
        wrong = _restated(q["question"], rng.choice(others))
        same_article = [p for p in articles[q["source"]] if p != passage and answer not in p]
        other_article = articles[rng.choice([n for n in names if n != q["source"]])]
        rows += [
            {"group": group, "kind": "quote", "claim": quote, "passage": passage},
            {"group": group, "kind": "restated", "claim": restated, "passage": passage},
            {"group": group, "kind": "wrong_fact", "claim": wrong, "passage": passage},
            {"group": group, "kind": "off_topic", "claim": restated,
             "passage": rng.choice(other_article)},
        ]
        if same_article:
            rows.append({"group": group, "kind": "wrong_passage", "claim": restated,
                         "passage": rng.choice(same_article)})
    return rows


def _cached(embed):
    cache: dict[str, np.ndarray] = {}

    def embed_cached(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embed(missing)))
        return np.stack([cache[t] for t in texts])

    return embed_cached


def _rates(rows: list[dict], threshold: float) -> dict[str, float]:
    """Share of claims the check calls supported, per kind, at `threshold`."""
    rates = {}
    for kind in SUPPORTED + UNSUPPORTED:
        chosen = [r for r in rows if r["kind"] == kind]
        kept = [r["hard_ok"] and r["score"] >= threshold for r in chosen]
        rates[kind] = round(float(np.mean(kept)), 4) if kept else float("nan")
    return rates


def _balanced_accuracy(rates: dict[str, float]) -> float:
    kept = np.mean([rates[k] for k in SUPPORTED])
    flagged = np.mean([1 - rates[k] for k in UNSUPPORTED])
    return float((kept + flagged) / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad")
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "grounding.json")
    args = parser.parse_args()

    began = time.perf_counter()
    rng = random.Random(args.seed)
    articles = _paragraphs(args.squad / "corpus")
    questions = [json.loads(line) for line in
                 (args.squad / "questions.jsonl").read_text("utf-8").splitlines() if line.strip()]
    rows = _examples(questions, articles, args.questions, rng)
    lexical = LexicalIndex([p for paragraphs in articles.values() for p in paragraphs])
    embed = _cached(Index(Settings()).embed)
    # One batched pass over every text the check will embed, instead of one call per claim.
    embed(list(dict.fromkeys([r["claim"] for r in rows] + [
        r["passage"][b:e] for r in rows for b, e in sentences(r["passage"])])))
    print(f"{len(rows)} claims embedded in {time.perf_counter() - began:.0f} s", flush=True)
    check = GroundingCheck(embed, threshold=0.0, idf=lexical.idf)
    for row in rows:
        support = check.support(row["claim"], [row["passage"]])
        row["score"] = support.score
        row["hard_ok"] = not support.missing_numbers and not support.missing_names

    calibrate = [r for r in rows if r["group"] == 0]
    report = [r for r in rows if r["group"] == 1]
    grid = [round(t, 2) for t in np.arange(0.0, 1.0, 0.01)]
    accuracy = {t: _balanced_accuracy(_rates(calibrate, t)) for t in grid}
    best = max(grid, key=lambda t: (accuracy[t], -abs(t - 0.5)))
    results = {
        "threshold": best,
        "balanced_accuracy": {"calibration": round(accuracy[best], 4),
                              "held_out": round(_balanced_accuracy(_rates(report, best)), 4)},
        "supported_rate_held_out": _rates(report, best),
        "supported_rate_by_threshold_held_out": {
            str(t): _rates(report, t) for t in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, best)},
        "hard_rule_only_held_out": _rates(report, 0.0),
        "claims": {kind: sum(r["kind"] == kind for r in rows) for kind in SUPPORTED + UNSUPPORTED},
        "questions": args.questions,
        "seed": args.seed,
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(results, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
