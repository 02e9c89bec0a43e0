"""The grounding check: is each sentence of a generated answer supported by the passage it cites?

A sentence is supported when it cites at least one passage and, against the
text of the passages it cites:
- every number in it appears there ("165 drones" needs a 165; "three" counts as 3),
- every name in it (a capitalised word inside the sentence) appears there,
- its support score reaches the threshold: half the share of its content words
  found in the passage (weighted by rarity when an idf is given), half the
  embedding similarity of the sentence to the passage's closest sentence.

The threshold is calibrated on data by benchmarks/calibrate_grounding.py.
A number or name the passage lacks fails the sentence whatever its score:
those are the hallucinations that read most convincingly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.kinds import name_found, names, numbers
from qa.types import MARKER, Citation, marker_numbers
from seedqa.text import fold, sentences, terms, word_spans

# Markers a model puts after the full stop ("... overnight. [1]") move before it.
_TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])+)")
LEXICAL_WEIGHT = 0.5  # the rest is embedding similarity


@dataclass(frozen=True)
class Support:
    """How well one sentence is backed by the passages it cites."""

    score: float  # LEXICAL_WEIGHT * coverage + (1 - LEXICAL_WEIGHT) * similarity
    coverage: float  # share of the sentence's content words found in the passages
    similarity: float  # cosine to the closest passage sentence
    missing_numbers: tuple[str, ...] = ()
    missing_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer and the verdict on it."""

    text: str  # as written, markers included
    cited: tuple[int, ...]  # passage numbers it cites, as written (1-based)
    supported: bool
    reason: str | None = None  # why not, when not
    support: Support | None = None

    @property
    def plain(self) -> str:
        """The sentence without its markers."""
        return " ".join(MARKER.sub("", self.text).split()).replace(" .", ".")


def split_claims(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences, each with the passage numbers it cites."""
    text = _TRAILING_MARKERS.sub(lambda m: m.group(2) + m.group(1), text.strip())
    claims: list[tuple[str, tuple[int, ...]]] = []
    for begin, end in sentences(text):
        sentence = text[begin:end]
        cited = tuple(n for group in MARKER.findall(sentence) for n in marker_numbers(group))
        if not MARKER.sub("", sentence).strip(" .,;:!?") and claims:
            # A sentence of markers only belongs to the one before it.
            previous, numbers = claims.pop()
            claims.append((f"{previous} {sentence}", numbers + cited))
            continue
        claims.append((sentence, cited))
    return claims


class GroundingCheck:
    """Judges generated sentences against their cited passages.

    `embed` maps texts to unit vectors (the index's embedding model); `idf`
    weights content words by rarity (the corpus's lexical index).
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], threshold: float,
                 idf: Callable[[str], float] | None = None) -> None:
        self.embed = embed
        self.threshold = threshold
        self.idf = idf or (lambda term: 1.0)

    def support(self, sentence: str, passages: Sequence[str]) -> Support:
        """How well `sentence` (markers ignored) is backed by the text of `passages`."""
        claim = " ".join(MARKER.sub("", sentence).split())
        joined = "\n\n".join(passages)
        missing_numbers = tuple(sorted(numbers(claim) - numbers(joined)))
        passage_words = {fold(word) for word, _, _ in word_spans(joined)}
        missing_names = tuple(sorted(n for n in names(claim) if not name_found(fold(n), passage_words)))

        claim_terms = {t for t in terms(claim) if not t.isdigit()}
        passage_terms = set(terms(joined))
        total = sum(self.idf(t) for t in claim_terms)
        coverage = (sum(self.idf(t) for t in claim_terms if t in passage_terms) / total
                    if total > 0 else 0.0)

        pieces = [text[b:e] for text in passages for b, e in sentences(text)] or list(passages)
        vectors = self.embed([claim, *pieces])
        similarity = float(max(0.0, np.max(vectors[1:] @ vectors[0]))) if pieces else 0.0
        score = LEXICAL_WEIGHT * coverage + (1 - LEXICAL_WEIGHT) * similarity
        return Support(round(score, 4), round(coverage, 4), round(similarity, 4),
                       missing_numbers, missing_names)

    def claims(self, text: str, passages: Sequence[Citation]) -> list[Claim]:
        """Every sentence of `text`, judged against the passages its `[n]` markers cite."""
        judged = []
        for sentence, cited in split_claims(text):
            judged.append(self.judge(sentence, cited, passages))
        return judged

    def judge(self, sentence: str, cited: tuple[int, ...], passages: Sequence[Citation]) -> Claim:
        valid = tuple(n for n in dict.fromkeys(cited) if 1 <= n <= len(passages))
        if not valid:
            reason = ("cites no passage" if not cited
                      else f"cites passage {cited[0]}, which does not exist")
            return Claim(sentence, cited, False, reason)
        support = self.support(sentence, [passages[n - 1].text for n in valid])
        where = ", ".join(f"[{n}]" for n in valid)
        if support.missing_numbers:
            reason = f"{', '.join(support.missing_numbers)} is not in {where}"
        elif support.missing_names:
            reason = f"{', '.join(support.missing_names)} is not in {where}"
        elif support.score < self.threshold:
            reason = f"{where} barely supports it (score {support.score:.2f} < {self.threshold:.2f})"
        else:
            reason = None
        return Claim(sentence, cited, reason is None, reason, support)
