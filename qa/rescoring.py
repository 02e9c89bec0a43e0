"""Second-stage scoring of the fused candidates with where the question's words sit.

BM25 and the embedding see a passage as a whole; a crowd-written question
usually restates one sentence of the passage that answers it. So the best
few candidates of the first stage are scored again from seven features:

- `dense`, `lexical`: the first stage's z-scored cosine and BM25;
- `sentence`: the idf-weighted share of the question's terms found in the
  passage's best single sentence;
- `window`: the same share within the best run of `WINDOW` consecutive terms
  (proximity, across sentence ends);
- `bigram`: the share of the question's adjacent term pairs that also stand
  together in the passage ("oil embargo", "Treaty of Easton");
- `best_sentence`, `second_sentence`: the two highest cosines of the question
  with the passage's sentences, each embedded in the context of the whole
  passage at ingest (index/minilm.py pools their tokens from the passage's
  own forward pass, so they cost no extra model time). One sentence that says
  what the question asks beats a passage that is about it throughout; the
  second one's weight is negative for that reason.

`WEIGHTS` are a logistic regression of "the passage contains an accepted
answer" on these features, fitted on a fixed development slice (the first
1,000 answerable questions of the SQuAD set, about a third) over the top 30
candidates per question by benchmarks/fit_rescoring.py, and reported on all
2,910 (benchmarks/README.md).
No question's id or content is special-cased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seedqa.text import sentences, terms

WINDOW = 15  # terms; about one clause
# Fitted as described above (benchmarks/README.md, "rescoring"); order of `features`.
WEIGHTS = (0.49, 0.18, 0.81, 0.51, 1.12, 2.97, -1.3)


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
             dense: float, lexical: float, sentence_cosines: tuple[float, float]
             ) -> tuple[float, ...]:
    """(dense, lexical, sentence, window, bigram, best and second sentence cosine)."""
    total = sum(weights.values())
    if total <= 0:
        return dense, lexical, 0.0, 0.0, 0.0, *sentence_cosines
    sentence = max(sum(w for t, w in weights.items() if t in s) for s in passage.sentences)
    query_pairs = set(zip(query_terms, query_terms[1:]))
    bigram = len(query_pairs & passage.pairs) / len(query_pairs) if query_pairs else 0.0
    return (dense, lexical, sentence / total, _window(passage.terms, weights) / total, bigram,
            *sentence_cosines)


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
