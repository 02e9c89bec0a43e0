"""Second-stage scoring of the fused candidates with where the question's words sit.

BM25 and the embedding see a passage as a whole; a crowd-written question
usually restates one sentence of the passage that answers it. So the best
few candidates of the first stage are scored again from five features:

- `dense`, `lexical`: the first stage's z-scored cosine and BM25;
- `sentence`: the idf-weighted share of the question's terms found in the
  passage's best single sentence;
- `window`: the same share within the best run of `WINDOW` consecutive terms
  (proximity, across sentence ends);
- `bigram`: the share of the question's adjacent term pairs that also stand
  together in the passage ("oil embargo", "Treaty of Easton").

`WEIGHTS` are a logistic regression of "the passage contains an accepted
answer" on these features, fitted on a fixed development slice (the first
1,000 answerable questions of the SQuAD set, about a third) over the top 30
candidates per question, and reported on all 2,910 (benchmarks/README.md).
No question's id or content is special-cased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seedqa.text import sentences, terms

WINDOW = 15  # terms; about one clause
# Fitted as described above (benchmarks/README.md, "rescoring"); order of `features`.
WEIGHTS = (0.62, 0.17, 0.87, 0.82, 1.39)


@dataclass(frozen=True)
class PassageTerms:
    """A passage's stemmed terms, whole and per sentence: computed once per chunk."""

    terms: tuple[str, ...]
    sentences: tuple[frozenset[str], ...]
    pairs: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, text: str) -> PassageTerms:
        all_terms = tuple(terms(text))
        per_sentence = tuple(frozenset(terms(text[b:e])) for b, e in sentences(text)) or (
            frozenset(all_terms),)
        return cls(all_terms, per_sentence, frozenset(zip(all_terms, all_terms[1:])))


def features(query_terms: Sequence[str], weights: Mapping[str, float], passage: PassageTerms,
             dense: float, lexical: float) -> tuple[float, ...]:
    """(dense, lexical, sentence, window, bigram) for one candidate passage."""
    total = sum(weights.values())
    if total <= 0:
        return dense, lexical, 0.0, 0.0, 0.0
    sentence = max(sum(w for t, w in weights.items() if t in s) for s in passage.sentences)
    query_pairs = set(zip(query_terms, query_terms[1:]))
    bigram = len(query_pairs & passage.pairs) / len(query_pairs) if query_pairs else 0.0
    return (dense, lexical, sentence / total, _window(passage.terms, weights) / total, bigram)


def _window(passage_terms: Sequence[str], weights: Mapping[str, float]) -> float:
    """The most question weight found within any `WINDOW` consecutive terms."""
    hits = [(i, t) for i, t in enumerate(passage_terms) if t in weights]
    best = 0.0
    for first, (start, _) in enumerate(hits):
        seen = {}
        for position, term in hits[first:]:
            if position - start >= WINDOW:
                break
            seen[term] = weights[term]
        best = max(best, sum(seen.values()))
    return best


def score(values: Sequence[float]) -> float:
    return sum(w * v for w, v in zip(WEIGHTS, values))
