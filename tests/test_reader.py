"""The fitted reader (qa/reader/) through the real answerer, index and embedding model."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.answerer import ExtractiveAnswerer
from qa.reader.features import CONFIDENCE_FEATURES, SENTENCE_FEATURES
from qa.reader.model import ReaderWeightsError, load_model
from qa.reader.question import answer_kind, key_names
from qa.reader.span_rows import SPAN_FEATURES
from qa.reader.spans import sentence_words, word_type
from seedqa.text import STOPWORDS, stem, terms, word_spans
from tests.conftest import seed_questions

WEIGHTS = Path(__file__).resolve().parents[1] / "qa" / "reader" / "weights.json"


@pytest.fixture(scope="module")
def seed_assistant(seed_index):
    return Assistant(seed_index)


@pytest.fixture
def prize_assistant(tmp_path, settings):
    """A few short reports where the lead repeats the question's words and the sum comes later."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "prize.txt").write_text(
        "Lindqvist Foundation launches a prize for young novelists\n\n"
        "The Lindqvist Foundation has launched a new prize for young novelists, its director "
        "said on Monday, hoping to find the next generation of writers from northern towns.\n\n"
        "The winner will receive £60,000 and a year's residency at the foundation's house in "
        "Uppsala, and the two runners-up will each be given a smaller grant.\n\n"
        "Entries open on 23 March and the shortlist is due in the autumn.\n")
    (docs / "harbour.txt").write_text(
        "Harbour wall repairs begin\n\n"
        "Work on the harbour wall at Portsoy began this week after storms damaged it in "
        "January. The council said the repairs would take about eight months.\n\n"
        "About 15 million people visit the coast each year, according to the tourist board.\n")
    assistant = Assistant(settings)
    assistant.add_documents([docs])
    return assistant


def test_weights_file_loads_and_its_heads_match_the_features():
    model = load_model()
    for head, names in ((model.span, SPAN_FEATURES), (model.confidence, CONFIDENCE_FEATURES)):
        assert head.names == names
        assert head.mean.shape == head.scale.shape == head.coef.shape == (len(names),)
        assert np.all(np.isfinite(head.coef)) and np.all(head.scale > 0)
    trees = model.sentence
    assert trees.names == SENTENCE_FEATURES
    assert trees.feature.shape == trees.threshold.shape == trees.value.shape
    assert trees.feature.max() < len(SENTENCE_FEATURES)
    # Every probability the heads give is one.
    rows = np.random.default_rng(0).normal(size=(7, len(SENTENCE_FEATURES)))
    for probabilities in (trees.probabilities(rows), model.confidence.probabilities(
            np.zeros((2, len(CONFIDENCE_FEATURES))))):
        assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert 0 < model.abstain < 1 and model.abstain <= model.sure <= 1
    assert json.loads(WEIGHTS.read_text())["thresholds"]["predicate_margin"] == (
        model.predicate_margin)
    assert WEIGHTS.stat().st_size < 50 * 1024**2


def test_a_close_contender_saying_what_was_asked_goes_first():
    from qa.reader.reader import says_what_was_asked

    order = np.asarray([0, 1, 2, 3])
    logits = np.asarray([1.0, 0.2, -0.1, -5.0])
    predicate = np.asarray([0.1, 0.2, 0.6, 0.9])
    # Within the margin, the most of the predicate wins; beyond it, or past the top
    # three, the model's order stands.
    assert says_what_was_asked(order, logits, predicate, 1.5, True).tolist() == [2, 0, 1, 3]
    assert says_what_was_asked(order, logits, predicate, 1.0, True).tolist() == [1, 0, 2, 3]
    assert says_what_was_asked(order, logits, predicate, 0.0, True).tolist() == [0, 1, 2, 3]
    # A question without key names: its predicate is all of it, and the rule stands aside.
    assert says_what_was_asked(order, logits, predicate, 1.5, False).tolist() == [0, 1, 2, 3]


def test_lightgbm_trees_run_as_the_numpy_trees_head():
    """The sentence ranker's trees, as LightGBM dumps them, step down the same way in NumPy:
    x <= threshold goes left, a leaf stays put, the trees' values add up, and the Platt
    scaling folds into the values."""
    from benchmarks.reader_fitting import calibrated, trees_head

    def split(feature, threshold, left, right):
        return {"split_feature": feature, "threshold": threshold, "decision_type": "<=",
                "left_child": left, "right_child": right}

    deep = split(0, 0.5, {"leaf_value": -1.0},
                 split(1, 2.0, {"leaf_value": 0.5}, split(0, 3.0, {"leaf_value": 2.0},
                                                         {"leaf_value": 4.0})))
    trees = [{"tree_structure": deep}, {"tree_structure": {"leaf_value": 0.25}}]
    head = trees_head(trees, ("a", "b"))
    rows = np.asarray([[0.5, 9.0], [1.0, 2.0], [3.0, 2.5], [3.5, 2.5]])
    assert head.logits(rows).tolist() == [-0.75, 0.75, 2.25, 4.25]
    scaled = calibrated(head, 2.0, -1.0)
    assert scaled.logits(rows).tolist() == [-2.5, 0.5, 3.5, 7.5]
    assert np.allclose(scaled.probabilities(rows), 1 / (1 + np.exp(-scaled.logits(rows))))


def test_weights_fitted_on_other_features_are_refused(tmp_path):
    data = json.loads(WEIGHTS.read_text())
    data["sentence"]["names"] = data["sentence"]["names"][:-1]
    broken = tmp_path / "weights.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(ReaderWeightsError, match="refit"):
        load_model(str(broken))


def test_the_query_path_imports_neither_the_fitting_libraries_nor_torch(seed_index):
    """Checked in a fresh interpreter: this one has loaded torch for other tests."""
    import subprocess

    code = ("import sys; from pathlib import Path; from qa import Assistant; "
            "from seedqa.settings import Settings; "
            f"Assistant(Settings(data_dir=Path({str(seed_index.data_dir)!r}), "
            f"cache_dir=Path({str(seed_index.cache_dir)!r}))).answer("
            "'How many drones did Russia fire at Ukraine overnight?'); "
            "print(sorted(m for m in ('lightgbm', 'sklearn', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_question_whose_key_names_are_not_in_the_documents_abstains(seed_assistant):
    # The seed report is about Russia and Ukraine; it never mentions Belarus or Poland.
    assert key_names("How many drones did Belarus fire at Poland overnight?") == (
        "belarus", "poland")
    answer = seed_assistant.answer("How many drones did Belarus fire at Poland overnight?")
    assert answer.abstained, answer.text
    assert answer.text.startswith("The documents don't say")


def test_how_much_gets_the_sentence_with_the_sum_not_the_lead(prize_assistant):
    """The lead repeats the question's words; the paragraph after it, retrieved too and
    read as its continuation, holds the sum."""
    answer = prize_assistant.answer("How much will the winner of the young novelists prize get?")
    assert not answer.abstained, answer.text
    assert "£60,000" in answer.text, answer.text
    assert answer.span is not None and "£60,000" in answer.span
    assert "**" in answer.text


def test_a_figure_is_its_number_and_unit_not_the_verb_before_it(seed_assistant):
    """"Russia fired 165 drones": the question says "launch", so "fired" is not one of its
    words, but it is not part of the figure either."""
    answer = seed_assistant.answer("How many drones did Russia launch at Ukraine during the night?")
    assert answer.span == "165", answer.text


def test_question_kinds():
    assert answer_kind("How much will the winner get?") == "money"
    assert answer_kind("How long did the repairs take?") == "duration"
    assert answer_kind("How many people visit the coast?") == "count"
    assert answer_kind("Who directed the film?") == "person"
    assert answer_kind("When do entries open?") == "date"
    assert answer_kind("Where is the residency?") == "place"
    assert answer_kind("Which club did he join?") == "name"
    assert answer_kind("What is the new search engine called?") == "name"
    assert answer_kind("Which kind of engine is it?") == "thing"
    assert answer_kind("What level of profit does the firm expect?") == "money"
    assert answer_kind("What caused the price rise?") == "reason"
    # Terse keyword queries say what they want by their nouns.
    assert answer_kind("Acme takeover price") == "money"
    assert answer_kind("Jones career appearances") == "count"
    assert answer_kind("Air force statement date") == "date"
    assert answer_kind("Geran-5 warhead weight") == "quantity"
    assert answer_kind("What is its range?") == "quantity"
    assert answer_kind("Geran-5 maker") == "other"


def test_words_are_never_cut():
    words = [w.text for w in sentence_words("It cost £60,000, about 15.5% of the 1,000km "
                                            "Geran-5 budget, on 23 March.")]
    assert "£60,000" in words and "15.5%" in words and "1,000km" in words
    assert "Geran-5" in words and "March" in words


def _content_stems(text: str) -> set[str]:
    return {stem(word) for word, _, _ in word_spans(text) if word not in STOPWORDS}


@pytest.mark.parametrize(("sentence", "run", "expected"), [
    ("It cost £60,000 in all.", "£60,000", "money"),
    ("Profits fell 15.5% last year.", "15.5%", "percent"),
    ("Sales rose 3 per cent.", "3", "percent"),
    ("The repairs took eight months.", "eight months", "duration"),
    ("Entries open on 23 March.", "23 March", "date"),
    ("It was built in 1763.", "1763", "date"),
    ("He played 276 games.", "276", "number"),
    # A year-shaped number counting the plural noun after it is a count, not a year.
    ("The city has 1180 bridges.", "1180", "number"),
    ("About 1500 people attended.", "1500", "number"),
    ("Her 2004 tour was cancelled.", "2004", "date"),
    ("In 1999 members voted to leave.", "1999", "date"),
    ("The 1990s bands are back.", "1990s", "date"),
    ("She joined Celta Vigo of Spain.", "Celta Vigo of Spain", "name"),
    ("She joined the club late.", "the club", "phrase"),
])
def test_span_types(sentence, run, expected):
    words = sentence_words(sentence)
    texts = [w.text for w in words]
    first = texts.index(run.split()[0])
    assert word_type(words, first, first + len(run.split()) - 1) == expected


@pytest.mark.parametrize("question", ["How much did the prize pay?", "Who won it in 1999?",
                                      "How many people attended?"])
def test_span_rows_of_several_sentences_are_each_sentences_own(question):
    """The query path scores all sentences' spans at once, its words one after the other:
    a span's neighbours, its type and its question words stop at its own sentence."""
    from qa.reader.question import QuestionProfile
    from qa.reader.span_rows import span_features, span_rows
    from qa.reader.spans import candidates

    texts = ["The prize paid £60,000", "pounds went to Celta Vigo, who won in 1999.",
             "About 1500 people attended", "People said it was 3", "per cent of the vote."]
    profile = QuestionProfile.of(question, lambda term: 2.0)
    sentences = [(sentence_words(text), text) for text in texts]
    spans = [candidates(words, profile, text) for words, text in sentences]
    alone = [span_features(words, found, profile, lambda term: 2.0, text)
             for (words, text), found in zip(sentences, spans)]
    together = span_rows(sentences, spans, profile, lambda term: 2.0)
    assert together.shape == (sum(len(found) for found in spans), len(SPAN_FEATURES))
    np.testing.assert_allclose(together, np.vstack(alone), rtol=1e-12, atol=1e-12)


def test_the_sentence_head_reads_every_sentences_best_span(seed_index):
    """The span columns the query path feeds the sentence head are the span head's best
    span of each sentence: the same function the fitting script calls."""
    from qa.answerer import reader_input
    from qa.reader.features import sentence_table
    from qa.reader.reader import best_span, read, with_span_columns

    request = Assistant(seed_index)._request("How many drones did Russia fire?", None)
    reader = reader_input(request)
    model = load_model()
    table, picks = with_span_columns(sentence_table(reader), reader, model.span)
    assert table.features.shape == (len(table.sentences), len(SENTENCE_FEATURES))
    reading = read(reader, model)
    assert np.array_equal(reading.table.features, table.features)
    for sentence, pick, row in zip(table.sentences, picks, table.features):
        again = best_span(sentence.text, table, reader, model.span)
        assert again == pick
        assert row[SENTENCE_FEATURES.index("span_logit")] == pytest.approx(
            -8.0 if pick.logit is None else pick.logit)
    assert reading.best is not None and "165" in reading.best.sentence.text


@pytest.mark.parametrize("item", [q for q in seed_questions() if q["answerable"]],
                         ids=lambda q: q["id"])
def test_spans_are_whole_words_never_a_question_word_and_confidence_is_a_probability(
        seed_assistant, item):
    history = []
    for earlier in item.get("history", []):
        history += [{"role": "user", "content": earlier},
                    {"role": "assistant", "content": seed_assistant.answer(earlier).text}]
    answer = seed_assistant.answer(item["question"], history or None)
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.confidence >= load_model().abstain
    if answer.span is None:
        return
    passage = answer.citations[0].text
    start = passage.find(answer.span)
    assert start >= 0, (answer.span, passage)
    before = passage[start - 1] if start > 0 else " "
    after = passage[start + len(answer.span)] if start + len(answer.span) < len(passage) else " "
    assert not before.isalnum() and not after.isalnum(), answer.span
    asked = set(terms(item["question"]))
    units = {"kg", "lb", "km"}
    assert not (_content_stems(answer.span) - units) & asked, (answer.span, item["question"])


def test_an_answer_that_is_not_sure_says_so_and_lists_other_passages(seed_index):
    assistant = Assistant(seed_index)
    unsure = replace(load_model(), sure=1.0)  # nothing is sure: every answer hedges
    assistant.answerer = ExtractiveAnswerer(40, model=unsure)
    answer = assistant.answer("How many drones did Russia fire at Ukraine overnight?")
    assert not answer.sure and not answer.abstained
    assert answer.text.startswith("I'm not sure; the closest answer is")
    assert len(answer.text.replace("**", "").split()) <= 42
    assert len(answer.alternatives) <= 3
    for alternative in answer.alternatives:
        assert alternative.citation.chunk_id != answer.citations[0].chunk_id
        quoted = alternative.text.replace("**", "").strip("…")
        assert quoted and quoted in alternative.citation.text
        assert unsure.abstain <= alternative.confidence <= 1.0
    data = json.loads(answer.to_json())
    assert data["sure"] is False and isinstance(data["alternatives"], list)


def test_a_sure_answer_has_no_alternatives(seed_assistant):
    answer = seed_assistant.answer("How many drones did Russia fire at Ukraine overnight?")
    if answer.sure:
        assert answer.alternatives == ()
        assert not re.match(r"I'm not sure", answer.text)


def test_a_hedged_answer_shows_its_alternatives_in_the_chat_and_on_the_command_line(seed_index):
    import click
    from click.testing import CliRunner

    from cli.output import print_answer
    from ui import render

    assistant = Assistant(seed_index)
    assistant.answerer = ExtractiveAnswerer(40, model=replace(load_model(), sure=1.0))
    answer = assistant.answer("How many drones did Russia fire at Ukraine overnight?")
    assert answer.alternatives
    shown = render.answer_message(answer, 0)
    assert "Not sure" in shown and "Other possible answers" in shown
    assert shown.count("seedqa-excerpt") == len(answer.citations) + len(answer.alternatives)

    command = click.command()(lambda: print_answer(assistant, answer.question, as_json=False))
    printed = CliRunner().invoke(command).output
    assert "Other possible answers, from other passages:" in printed
    assert printed.count("\n  - ") == len(answer.alternatives)
