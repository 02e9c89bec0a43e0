"""What the SQuAD measurements rest on: paragraph chunks, fusion and re-scoring, answer extracts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ingest import Ingestor, ingest_paths
from qa import Assistant
from qa.answerer import AnswerRequest, ExtractiveAnswerer
from qa.reader.model import load_model
from qa.rescoring import WEIGHTS, PassageTerms, features, score
from qa.retrieval import _best_two
from qa.types import Citation
from index import Index, pack_vectors, unpack_vectors
from seedqa.text import sentences, terms, word_spans

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
    near = features(query_terms, weights, together, 0.0, 0.0, (0.5, 0.4))
    far = features(query_terms, weights, scattered, 0.0, 0.0, (0.5, 0.4))
    assert near[2] == pytest.approx(1.0)  # one sentence holds every question term
    assert far[2] < 0.6
    assert near[3] > far[3] and near[4] > far[4]  # window and adjacent pairs
    assert score(near) > score(far)


def test_chunks_carry_their_sentences_embedded_in_context(settings, tmp_path):
    (tmp_path / "a.txt").write_text(f"Harbour History\n\n{PARAGRAPH_A}\n\n{PARAGRAPH_B}\n")
    ingest_paths([tmp_path / "a.txt"], settings)
    index = Index(settings)
    chunks = sorted(index.live_chunks(), key=lambda c: c.start)
    vectors = [unpack_vectors(c.sentence_vectors) for c in chunks]
    assert [len(v) for v in vectors] == [len(sentences(c.text)) for c in chunks]
    assert all(np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4) for v in vectors)
    # The sentence that says what the question asks is the chunk's best match.
    question = index.embed(["Which boats tied up at the western quay?"])[0]
    cosines = vectors[0] @ question
    spans = sentences(chunks[0].text)
    best = chunks[0].text[slice(*spans[int(np.argmax(cosines))])]
    assert best == "Fishing boats used the western quay."


def test_rescoring_reads_the_best_two_sentence_cosines(settings, tmp_path):
    (tmp_path / "a.txt").write_text(f"Harbour History\n\n{PARAGRAPH_A}\n\n{PARAGRAPH_B}\n")
    ingest_paths([tmp_path / "a.txt"], settings)
    assistant = Assistant(settings)
    question = "How long is the ferry crossing to Skye?"
    found = [(c.chunk, c.features) for c in assistant.retriever.candidates(question, 10)]
    assert len(found) == 2 and all(len(values) == len(WEIGHTS) for _, values in found)
    vector = assistant.index.embed([question])[0]
    for chunk, values in found:
        cosines = np.sort(unpack_vectors(chunk.sentence_vectors) @ vector)[::-1]
        assert values[5:] == pytest.approx((cosines[0], cosines[1]), abs=1e-6)
    assert assistant.retrieve(question, k=1)[0].text == PARAGRAPH_B


def test_packed_sentence_vectors_keep_their_cosines():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(6, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[0] * 0.8 + rng.normal(size=384).astype(np.float32) * 0.03
    query /= np.linalg.norm(query)
    unpacked = unpack_vectors(pack_vectors(vectors))
    assert unpacked.shape == vectors.shape
    assert np.abs(unpacked @ query - vectors @ query).max() < 0.01
    assert pack_vectors(np.zeros((0, 384))) == "" and unpack_vectors("").shape == (0, 0)


def test_a_chunk_without_sentence_vectors_falls_back_to_its_own_cosine():
    assert _best_two(np.zeros((0, 384), np.float32), np.ones(384), 0.42) == (0.42, 0.42)
    one = np.eye(3, dtype=np.float32)[:1]
    assert _best_two(one, np.array([0.6, 0.8, 0.0]), 0.1) == pytest.approx((0.6, 0.6))


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
    return AnswerRequest(question=question, passages=(passage,), unknown_weight=1.0)


def test_the_sentences_after_the_answer_come_while_they_fit_and_the_next_is_cut():
    text = ("The Treaty of Lindqvist ended the harbour dispute. It was signed in 1763. Both "
            "towns kept copies. The quay was rebuilt in stone over the following twenty years.")
    sure = replace(load_model(), sure=0.0)  # the extract itself, without the "not sure" lead
    answer = ExtractiveAnswerer(max_words=20, abstain_threshold=0.0, model=sure).invoke(
        _request("What ended the harbour dispute?", text))
    body = answer.text.removesuffix(" [1]")
    assert body.startswith("The Treaty of Lindqvist ended the harbour dispute. It was signed "
                           "in 1763. Both towns kept copies. The quay")
    assert body.endswith("…") and "twenty" not in body
    assert len(word_spans(body)) <= 20


def test_the_sentence_closest_in_embedding_wins_a_tie_in_words():
    text = ("The harbour crane lifted timber in spring. Far away the harbour crane lifted "
            "coal in autumn.")
    question = "What did the harbour crane lift?"
    query = np.array([1.0, 0.0], dtype=np.float32)
    for closest, expected in ((0, "timber"), (1, "coal")):
        vectors = np.eye(2, dtype=np.float32)[[closest, 1 - closest]]
        cosines = (tuple((vectors @ query).tolist()),)  # the question's, with each sentence
        request = _request(question, text).model_copy(update={"sentence_cosines": cosines})
        answer = ExtractiveAnswerer(max_words=8, abstain_threshold=0.0).invoke(request)
        assert expected in answer.text and answer.text.count("crane") == 1


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
