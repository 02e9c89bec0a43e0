"""The fitted reader: three logistic models and two thresholds, run in NumPy.

`weights.json` (fitted by `python -m benchmarks.fit_reader`) holds, for each
head, the feature names it was fitted on, the standardisation (mean, scale)
and the coefficients:

- `sentence`: P(this sentence holds an accepted answer), over every sentence
  of the retrieved passages (columns `features.SENTENCE_FEATURES`); gradient-
  boosted trees fitted to rank a question's sentences, then scaled to log-odds
  (`TreesHead`); the other two are logistic (`LogisticHead`);
- `span`: P(this span is an accepted answer), over the candidate spans of the
  chosen sentence (`span_rows.SPAN_FEATURES`);
- `confidence`: P(the answer is right), over the chosen answer
  (`features.CONFIDENCE_FEATURES`); this is `Answer.confidence`.

and `thresholds`: `abstain` (below it the answerer says the documents don't
say), `sure` (below it the answer says it is not sure and lists the next best
answers) and `span` (the least span probability worth marking in bold), each
chosen on held-out folds. Loading checks that the names match the code's.
No scikit-learn or torch here: fitting happens elsewhere.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from qa.reader.features import CONFIDENCE_FEATURES, SENTENCE_FEATURES
from qa.reader.question import FIGURE_KINDS
from qa.reader.span_rows import SPAN_FEATURES


class ReaderWeightsError(RuntimeError):
    """The weights file does not fit the features this code computes: refit it."""


@dataclass(frozen=True)
class LogisticHead:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict, expected: tuple[str, ...], head: str) -> LogisticHead:
        names = tuple(data["names"])
        if names != tuple(expected):
            raise ReaderWeightsError(
                f"the reader's {head} weights were fitted on other features than the code "
                f"computes ({len(names)} vs {len(expected)}); refit: python -m benchmarks.fit_reader")
        return cls(names, np.asarray(data["mean"], np.float64),
                   np.asarray(data["scale"], np.float64), np.asarray(data["coef"], np.float64),
                   float(data["intercept"]))

    def to_dict(self) -> dict:
        return {"names": list(self.names), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6)}

    def logits(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, np.float64).reshape(-1, len(self.names))
        return ((features - self.mean) / self.scale) @ self.coef + self.intercept

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(features)))


@dataclass(frozen=True)
class TreesHead:
    """Gradient-boosted trees (LightGBM's, exported by benchmarks/reader_fitting.py), in NumPy.

    Each tree is stored as flat node arrays; all trees step down together, one
    level at a time, so a question's 30-odd sentences cost a few array operations
    per level rather than a Python loop per tree.
    """

    names: tuple[str, ...]
    feature: np.ndarray  # (trees, nodes) int
    threshold: np.ndarray  # (trees, nodes): go left when x <= threshold
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray  # bool
    value: np.ndarray
    baseline: float
    depth: int

    @classmethod
    def from_dict(cls, data: dict, expected: tuple[str, ...], head: str) -> TreesHead:
        names = tuple(data["names"])
        if names != tuple(expected):
            raise ReaderWeightsError(
                f"the reader's {head} trees were fitted on other features than the code "
                f"computes ({len(names)} vs {len(expected)}); refit: python -m benchmarks.fit_reader")
        arrays = {key: np.asarray(data[key]) for key in
                  ("feature", "threshold", "left", "right", "leaf", "value")}
        return cls(names, arrays["feature"].astype(np.int64),
                   arrays["threshold"].astype(np.float64), arrays["left"].astype(np.int64),
                   arrays["right"].astype(np.int64), arrays["leaf"].astype(bool),
                   arrays["value"].astype(np.float64), float(data["baseline"]),
                   int(data["depth"]))

    def to_dict(self) -> dict:
        return {"kind": "trees", "names": list(self.names), "feature": self.feature.tolist(),
                "threshold": self.threshold.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "leaf": self.leaf.astype(int).tolist(),
                "value": self.value.round(6).tolist(), "baseline": round(self.baseline, 6),
                "depth": self.depth}

    @functools.cached_property
    def _flat(self) -> tuple[np.ndarray, ...]:
        """The node arrays as one flat row of all trees' nodes, children as flat indices,
        and a leaf its own child both ways: stepping down needs no test for leaves."""
        trees, width = self.feature.shape
        at = np.arange(trees * width)
        offset = at - at % width
        left = np.where(self.leaf.ravel(), at, self.left.ravel() + offset)
        right = np.where(self.leaf.ravel(), at, self.right.ravel() + offset)
        roots = np.arange(trees) * width
        return (self.feature.ravel(), self.threshold.ravel(), left, right, self.value.ravel(),
                roots)

    def logits(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, np.float64).reshape(-1, len(self.names))
        feature, threshold, left, right, value, roots = self._flat
        rows = np.arange(len(features))[None, :]
        node = np.repeat(roots[:, None], len(features), axis=1)
        for _ in range(self.depth):
            goes_left = features[rows, feature[node]] <= threshold[node]
            node = np.where(goes_left, left[node], right[node])
        return self.baseline + value[node].sum(axis=0)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(features)))


def _head(data: dict, expected: tuple[str, ...], head: str) -> LogisticHead | TreesHead:
    kind = TreesHead if data.get("kind") == "trees" else LogisticHead
    return kind.from_dict(data, expected, head)


@dataclass(frozen=True)
class ReaderModel:
    sentence: LogisticHead | TreesHead
    span: LogisticHead
    confidence: LogisticHead
    abstain: float
    sure: float
    span_threshold: float
    card: dict  # what it was fitted on, how, and the held-out figures
    # Spans that answer a number or date question ("how many", "when") are right more
    # often at the same score: they have their own threshold.
    span_typed: float | None = None
    # Logits within which a sentence saying more of the question's predicate goes first
    # (qa/reader/reader.py's `says_what_was_asked`): chosen on cross-fitted folds, but
    # never below what the seed questions need (benchmarks/fit_reader.py, SEED_MARGIN).
    predicate_margin: float = 2.0

    def span_threshold_for(self, kind: str) -> float:
        typed = kind in FIGURE_KINDS
        return self.span_typed if typed and self.span_typed is not None else self.span_threshold

    @classmethod
    def from_dict(cls, data: dict) -> ReaderModel:
        thresholds = data["thresholds"]
        return cls(
            _head(data["sentence"], SENTENCE_FEATURES, "sentence"),
            LogisticHead.from_dict(data["span"], SPAN_FEATURES, "span"),
            LogisticHead.from_dict(data["confidence"], CONFIDENCE_FEATURES, "confidence"),
            float(thresholds["abstain"]), float(thresholds["sure"]), float(thresholds["span"]),
            data.get("card", {}), thresholds.get("span_typed"),
            float(thresholds.get("predicate_margin", 2.0)),
        )

    def to_dict(self) -> dict:
        return {"sentence": self.sentence.to_dict(), "span": self.span.to_dict(),
                "confidence": self.confidence.to_dict(),
                "thresholds": {"abstain": self.abstain, "sure": self.sure,
                               "span": self.span_threshold, "span_typed": self.span_typed,
                               "predicate_margin": self.predicate_margin},
                "card": self.card}


WEIGHTS_FILE = "weights.json"


@functools.cache
def load_model(path: str | None = None) -> ReaderModel:
    """The shipped weights (or those at `path`), read once per process."""
    if path is None:
        text = (resources.files(__package__) / WEIGHTS_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return ReaderModel.from_dict(json.loads(text))
