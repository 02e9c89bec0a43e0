"""Reading the retrieved passages with the fitted model: sentence, span, confidence.

`read` scores every candidate sentence, takes the best one from a passage that
holds all the question's key names, picks the best span in it, and computes
the confidence that answering with it is right. It does the
same for the best sentence of each other passage, so that an answer that is
not sure can list the next best ones. The answerer (qa/answerer.py) turns a
`Reading` into the `Answer` text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.reader import span_rows
from qa.reader import spans as span_lib
from qa.reader.features import (
    SENTENCE_FEATURES,
    ReaderInput,
    Sentence,
    SentenceTable,
    confidence_features,
    sentence_table,
    title_names,
)
from qa.reader.model import LogisticHead, ReaderModel
from seedqa.text import Span


@dataclass(frozen=True)
class Choice:
    """One candidate answer: a sentence, its best span, and how likely it is right."""

    sentence: Sentence
    sentence_probability: float
    span: Span | None  # offsets within `sentence.text`
    span_probability: float
    confidence: float  # the fitted probability that this answer is right
    features: tuple[float, ...] = ()  # its confidence features, for fitting


@dataclass(frozen=True)
class Reading:
    best: Choice | None
    alternatives: tuple[Choice, ...]  # the best choice of each other passage, best first
    table: SentenceTable


def span_table(sentence: str, table: SentenceTable, reader: ReaderInput,
               words: Sequence[span_lib.Word] = ()
               ) -> tuple[Sequence[span_lib.Word], list[tuple[int, int]], np.ndarray]:
    """The sentence's words (`words`, when the sentence table split them already), its
    candidate spans (word indices) and their features."""
    words = words or span_lib.sentence_words(sentence)
    found = span_lib.candidates(words, table.profile, sentence)
    return words, found, span_rows.span_features(words, found, table.profile, reader.idf, sentence)


@dataclass(frozen=True)
class SpanPick:
    """The span head's best span of one sentence."""

    span: Span | None  # offsets within the sentence's text
    probability: float
    logit: float | None
    margin: float  # its logit's lead over the sentence's next best span


NO_SPAN_LOGIT = -8.0  # the span columns of a sentence without a candidate span
ONLY_SPAN_MARGIN = 5.0  # the lead of a sentence's only candidate span (no second best)


def best_span(sentence: str, table: SentenceTable, reader: ReaderInput, span_head: LogisticHead,
              words: Sequence[span_lib.Word] = ()) -> SpanPick:
    words = words or span_lib.sentence_words(sentence)
    return _best_spans([(words, sentence)], table, reader, span_head)[0]


def _best_spans(sentences: Sequence[tuple[Sequence[span_lib.Word], str]], table: SentenceTable,
                reader: ReaderInput, span_head: LogisticHead) -> list[SpanPick]:
    """The span head's best span of each sentence (its words and text), all scored at once."""
    found = [span_lib.candidates(words, table.profile, text) for words, text in sentences]
    logits = span_head.logits(span_rows.span_rows(sentences, found, table.profile, reader.idf))
    picks, start = [], 0
    for (words, _), spans in zip(sentences, found):
        own, start = logits[start : start + len(spans)], start + len(spans)
        if not spans:
            picks.append(SpanPick(None, 0.0, None, 0.0))
            continue
        top = int(np.argmax(own))
        logit = float(own[top])
        margin = logit - float(np.partition(own, -2)[-2]) if len(own) > 1 else ONLY_SPAN_MARGIN
        picks.append(SpanPick(span_lib.span_of(words, *spans[top]),
                              float(1 / (1 + np.exp(-logit))), logit, margin))
    return picks


def with_span_columns(table: SentenceTable, reader: ReaderInput, span_head: LogisticHead
                      ) -> tuple[SentenceTable, list[SpanPick]]:
    """`table` with SPAN_COLUMNS added, from each sentence's best span; and those spans."""
    sentences = [(s.words or span_lib.sentence_words(s.text), s.text) for s in table.sentences]
    picks = _best_spans(sentences, table, reader, span_head)
    logits = np.asarray([NO_SPAN_LOGIT if p.logit is None else p.logit for p in picks])
    margins = np.asarray([p.margin for p in picks])
    gap = logits - logits.max() if len(logits) else logits
    features = np.column_stack([table.features, logits, margins, gap])
    return replace(table, features=features), picks


def read(reader: ReaderInput, model: ReaderModel, alternatives: int = 3) -> Reading:
    table = sentence_table(reader)
    if not table.sentences or table.profile.total <= 0:
        return Reading(None, (), table)
    table, picks = with_span_columns(table, reader, model.span)
    logits = model.sentence.logits(table.features)
    # A document none of whose retrieved passages holds one of the question's key names
    # (its capitalised names and numbers) is about something else: it is never the
    # answer, however well it matches. The document, not the passage: the passage
    # after the one naming "the Geran-5" calls it "the drone". Its title names its
    # subject ("Frédéric Chopin"), which its passages may call "Chopin" throughout, and
    # a report dated 2005 is about 2005 when it says "this year".
    # So is a document that never names the measure a "what is the X of" question asks.
    names = set(table.profile.names) | set(table.profile.asked)
    held: dict[str, set[str]] = {}
    for passage, stems in zip(reader.passages, table.passage_stems):
        if passage.source not in held:
            held[passage.source] = set(title_names(passage.title))
            if passage.date:
                held[passage.source].add(passage.date[:4])
        held[passage.source].update(stems)
    allowed = np.asarray([names <= held[reader.passages[s.passage].source]
                          for s in table.sentences])
    if not allowed.any():
        return Reading(None, (), table)
    order = np.argsort(-np.where(allowed, logits, -np.inf), kind="stable")
    order = says_what_was_asked(order[allowed[order]], logits, table.features[:, PREDICATE],
                                model.predicate_margin, bool(table.profile.names))
    best = _choice(int(order[0]), table, logits, picks, reader, model)
    order, best = _body_over_caption(order, best, table, logits, picks, reader, model)
    others, seen = [], {table.sentences[int(order[0])].passage}
    for index in order[1:]:
        if len(others) >= alternatives:
            break
        sentence = table.sentences[int(index)]
        if sentence.passage in seen or sentence.text == best.sentence.text:
            continue
        seen.add(sentence.passage)
        others.append(_choice(int(index), table, logits, picks, reader, model))
    others.sort(key=lambda choice: -choice.confidence)
    return Reading(best, tuple(others), table)


# The predicate said in the sentence's own words or in others ("targeted" for "aim at").
PREDICATE = SENTENCE_FEATURES.index("soft_predicate")


def says_what_was_asked(order: np.ndarray, logits: np.ndarray, predicate: np.ndarray,
                        margin: float, named: bool) -> np.ndarray:
    """`order` with, first, the close contender that says most of what the question asks.

    The model leans on the in-context sentence vector, which rates a sentence alone
    in its passage highly whatever it says; among the top three sentences it scores
    within `margin` of its best (`ReaderModel.predicate_margin`), the one
    holding more of the question's predicate (`predicate`, per sentence: its words
    other than its names, "target" in "What did the drones target?", found as they
    are or in other words, qa/reader/paraphrase.py) goes first. Only for a question
    that has key names (`named`): without them the predicate is the whole question,
    and preferring the sentence that repeats most of it is what picks a lead that
    only restates the question over the sentence after it that holds the sum.
    """
    if not named:
        return order
    close = [i for i in order[:3] if logits[i] >= logits[order[0]] - margin]
    best = max(close, key=lambda i: predicate[i])
    if predicate[best] <= predicate[order[0]]:
        return order
    return np.concatenate([[best], order[order != best]])


_CAPTION = [SENTENCE_FEATURES.index(name) for name in ("headline", "credit", "byline")]


def _body_over_caption(order: np.ndarray, best: Choice, table: SentenceTable, logits: np.ndarray,
                       picks: list[SpanPick], reader: ReaderInput, model: ReaderModel
                       ) -> tuple[np.ndarray, Choice]:
    """A headline, photo caption or byline is never the answer when the body states it too.

    "Russia fired 165 drones ... (Michael Shtekel/AP)" under a photo repeats the
    article's sentence: the body's sentence holding the same span answers instead.
    """
    first = int(order[0])
    if best.span is None or not table.features[first, _CAPTION].any():
        return order, best
    said = best.sentence.text[best.span[0]:best.span[1]]
    for index in order[1:]:
        index = int(index)
        if not table.features[index, _CAPTION].any() and said in table.sentences[index].text:
            body = _choice(index, table, logits, picks, reader, model)
            # The same answer, stated in the body: at least as likely right as the caption's.
            return (np.concatenate([[index], order[order != index]]),
                    replace(body, confidence=max(body.confidence, best.confidence)))
    return order, best


def _choice(index: int, table: SentenceTable, logits: np.ndarray, picks: list[SpanPick],
            reader: ReaderInput, model: ReaderModel) -> Choice:
    sentence, pick = table.sentences[index], picks[index]
    features = confidence_features(table, logits, index, pick.logit, reader, pick.span)
    confidence = float(model.confidence.probabilities(np.asarray(features))[0])
    return Choice(sentence, float(1 / (1 + np.exp(-logits[index]))), pick.span, pick.probability,
                  confidence, tuple(features))
