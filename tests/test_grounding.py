"""The grounding check on hand-made sentences against real seed passages, with the real
embedding model and the calibrated threshold from the settings."""

from __future__ import annotations

import pytest

from qa import Assistant
from qa.grounding import GroundingCheck, split_claims
from qa.kinds import names, numbers
from seedqa.settings import Settings

QUESTION = "How many drones did Russia fire at Ukraine overnight?"


@pytest.fixture(scope="module")
def assistant(seed_index: Settings) -> Assistant:
    return Assistant(seed_index)


@pytest.fixture(scope="module")
def check(assistant: Assistant) -> GroundingCheck:
    return GroundingCheck(assistant.index.embed, assistant.settings.llm_grounding_threshold,
                          assistant.retriever.corpus().lexical.idf)


@pytest.fixture(scope="module")
def drones(assistant: Assistant):
    """The retrieved seed passage that reports the overnight attack."""
    passages = assistant.retrieve(QUESTION)
    found = [p for p in passages if "Russia fired 165 drones" in p.text]
    assert found, [p.text[:80] for p in passages]
    return found[0]


@pytest.mark.parametrize("sentence", [
    "Russia fired 165 drones [1].",
    "Russia fired 165 drones at Ukraine overnight [1].",
    "Russia fired 165 drones at Ukraine overnight. [1]",
    "Overnight, Russia fired 165 drones at Ukraine, and 24 of them hit targets [1].",
])
def test_supported_sentences(check, drones, sentence):
    [claim] = check.claims(sentence, [drones])
    assert claim.supported, claim


@pytest.mark.parametrize("sentence, why", [
    ("Russia fired 300 drones [1].", "300"),
    ("The attack was in Kharkiv [1].", "Kharkiv"),
    ("Russia fired 165 drones at Kharkiv overnight [1].", "Kharkiv"),
    ("Russia fired 165 drones.", "cites no passage"),
    ("Russia fired 165 drones [4].", "does not exist"),
    ("The football season ended with a record crowd at the stadium [1].", "barely supports"),
])
def test_unsupported_sentences(check, drones, sentence, why):
    [claim] = check.claims(sentence, [drones])
    assert not claim.supported
    assert why in claim.reason


def test_a_true_sentence_citing_the_wrong_passage_is_unsupported(check, assistant, drones):
    """Supported by [1], not by [2]: the citation matters, not just the sentence."""
    other = next(p for p in assistant.retrieve("Geran-5 jet-powered warhead", k=8)
                 if "165" not in p.text)
    good, wrong = check.claims("Russia fired 165 drones [1]. Russia fired 165 drones [2].",
                               [drones, other])
    assert good.supported and not wrong.supported


def test_each_sentence_is_judged_on_its_own(check, drones):
    claims = check.claims("Russia fired 165 drones at Ukraine overnight. [1] "
                          "The attack was in Kharkiv [1].", [drones])
    assert [c.supported for c in claims] == [True, False]
    assert claims[0].plain == "Russia fired 165 drones at Ukraine overnight."


def test_split_claims_keeps_markers_with_their_sentence():
    assert split_claims("One sentence. [1] Two [2][3]. Three [1, 2].") == [
        ("One sentence [1].", (1,)), ("Two [2][3].", (2, 3)), ("Three [1, 2].", (1, 2))]


def test_numbers_and_names():
    assert numbers("at least three people, 1,200 homes and 24 drones") == {"3", "1200", "24"}
    assert names("Drones hit Kharkiv and the Odesa port, Mr Zelensky said") == {
        "Kharkiv", "Odesa", "Mr", "Zelensky"}


def test_names_match_their_adjectives(check, drones):
    """"Russian drones" is backed by a passage about what Russia fired."""
    [claim] = check.claims("Russian forces fired 165 drones at Ukraine overnight [1].", [drones])
    assert not claim.support.missing_names
