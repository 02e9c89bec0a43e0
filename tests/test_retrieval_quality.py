"""What the SQuAD measurements rest on: paragraph chunks, fusion and re-scoring, answer extracts."""

from __future__ import annotations

import pytest

from ingest import Ingestor, ingest_paths
from qa import Assistant
from qa.answerer import AnswerRequest, ExtractiveAnswerer
from qa.rescoring import PassageTerms, features, score
from qa.types import Citation
from seedqa.store import Index
from seedqa.text import terms, word_spans

PARAGRAPH_A = ("The harbour of Lindqvist opened in 1871. Its first crane lifted timber from "
               "the northern forests. Fishing boats used the western quay.")
PARAGRAPH_B = ("Ferries to Skye leave from the southern pier. The crossing takes forty minutes "
               "in calm weather.")


@pytest.fixture
def chunker(settings):
    return Ingestor(settings).chunker


def test_a_paragraph_that_fits_is_one_chunk_and_none_spans_two(chunker):
    text = f"Harbour History\n\n{PARAGRAPH_A}\n\n{PARAGRAPH_B}\n"
    chunks = [text[b:e] for b, e in chunker.split(text)]
    # The heading opens the first paragraph's chunk instead of standing alone.
    assert chunks == [f"Harbour History\n\n{PARAGRAPH_A}", PARAGRAPH_B]


def test_a_long_paragraph_is_cut_into_even_overlapping_pieces_within_budget(chunker):
    sentences = [f"Crane number {i} at the quay lifted {i * 7} tonnes of timber that day."
                 for i in range(60)]
    text = "Long Paragraph\n\n" + " ".join(sentences) + "\n\nA closing paragraph of its own."
    spans = chunker.split(text)
    chunks = [text[b:e] for b, e in spans]
    assert chunks[-1] == "A closing paragraph of its own."
    body = spans[:-1]
    assert len(body) >= 3
    assert all(e - b <= chunker.max_chars for b, e in spans)
    assert all(chunker.count_tokens(c) <= chunker.max_tokens for c in chunks)
    assert all(later[0] < earlier[1] for earlier, later in zip(body, body[1:]))  # overlap
    sizes = [e - b for b, e in body]
    assert max(sizes) < 1.6 * min(sizes)  # about equal, not one full and one scrap
    covered = set()
    for b, e in spans:
        covered.update(range(b, e))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_a_sentence_longer_than_the_budget_is_cut_to_it(chunker):
    text = "Start.\n\n" + " ".join(f"alpha{i}" for i in range(400)) + "."
    spans = chunker.split(text)
    assert all(e - b <= chunker.max_chars for b, e in spans)
    assert all(chunker.count_tokens(text[b:e]) <= chunker.max_tokens for b, e in spans)


def test_every_chunk_is_within_the_character_budget(settings, tmp_path):
    (tmp_path / "a.txt").write_text(f"Title\n\n{PARAGRAPH_A * 12}\n\n{PARAGRAPH_B}\n")
    report = ingest_paths([tmp_path / "a.txt"], settings)
    assert not report.errors
    chunks = Index(settings).live_chunks()
    assert chunks and max(len(c.text) for c in chunks) <= 1000


def test_rescoring_features_see_where_the_question_words_sit():
    question = "When did the first crane lift timber?"
    query_terms = terms(question)
    weights = {term: 1.0 for term in query_terms}
    together = PassageTerms.of("The port grew. The first crane lifted timber in 1871. Boats came.")
    filler = " ".join(f"Harbour record {i} notes calm water." for i in range(4))
    scattered = PassageTerms.of(f"The first ships came. {filler} Much later a crane was built. "
                                f"{filler} The forests gave timber. {filler} People lift things.")
    near = features(query_terms, weights, together, 0.0, 0.0)
    far = features(query_terms, weights, scattered, 0.0, 0.0)
    assert near[2] == pytest.approx(1.0)  # one sentence holds every question term
    assert far[2] < 0.6
    assert near[3] > far[3] and near[4] > far[4]  # window and adjacent pairs
    assert score(near) > score(far)


def test_retrieval_returns_k_passages_with_or_without_rescoring(seed_index):
    question = "How many drones did Russia fire at Ukraine overnight?"
    for rescore in (0, 3, 30):
        assistant = Assistant(seed_index.model_copy(update={"rescore_candidates": rescore}))
        passages = assistant.retrieve(question, k=8)
        assert len(passages) == 8
        assert len({p.chunk_id for p in passages}) == 8
        assert "Russia fired 165 drones" in passages[0].text


def _request(question: str, text: str) -> AnswerRequest:
    passage = Citation("/d/a.txt", "A", text, 0, len(text), 1.0, chunk_id="c", dense_score=0.6)
    return AnswerRequest(question, (passage,), idf=lambda term: 1.0)


def test_a_short_answer_sentence_brings_the_next_one_within_the_word_limit():
    text = ("The Treaty of Lindqvist ended the harbour dispute. It was signed in 1763 by both "
            "towns. Later the quay was rebuilt.")
    answer = ExtractiveAnswerer(max_words=18, abstain_threshold=0.0).invoke(
        _request("What ended the harbour dispute?", text))
    body = answer.text.removesuffix(" [1]")
    assert body.startswith("The Treaty of Lindqvist ended the harbour dispute. It was signed")
    assert len(word_spans(body)) <= 18 and "rebuilt" not in body


def test_a_long_sentence_is_cut_around_the_words_the_question_shares():
    filler = " ".join(f"w{i}" for i in range(60))
    text = f"{filler} and the lighthouse keeper was called Mara Lindqvist {filler}."
    answer = ExtractiveAnswerer(max_words=20, abstain_threshold=0.0).invoke(
        _request("What was the lighthouse keeper called?", text))
    assert "Mara Lindqvist" in answer.text
    assert len(word_spans(answer.text.removesuffix(" [1]"))) <= 21


def test_scores_fall_with_rank_past_the_rescored_passages(seed_index):
    assistant = Assistant(seed_index.model_copy(update={"rescore_candidates": 2}))
    passages = assistant.retrieve("When did the drones hit Odesa?", k=6)
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
