"""The numbers and names a text states, which the grounding check holds an LLM's sentence to.

(What a question asks for is the reader's: qa/reader/question.py.)
"""

from __future__ import annotations

import re

from seedqa.text import NUMBER_WORDS, STOPWORDS, word_spans

# --- the numbers and names a text states ------------------------------------------

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*")
_NUMBER_VALUES = {word: str(value) for value, word in enumerate(NUMBER_WORDS)}
_NUMBER_VALUES.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90", "hundred": "100", "dozen": "12"})


def numbers(text: str) -> set[str]:
    """Numbers in `text`, as digits: "165", "1,200" → "1200", "three" → "3"."""
    found = {match.group().replace(",", "") for match in _DIGITS.finditer(text)}
    found.update(_NUMBER_VALUES[w] for w, _, _ in word_spans(text) if w in _NUMBER_VALUES)
    return found


def names(sentence: str) -> set[str]:
    """Capitalised words inside the sentence (its first word is capitalised anyway)."""
    spans = word_spans(sentence)
    found = set()
    for index, (word, begin, end) in enumerate(spans):
        if index == 0 or word in STOPWORDS or not _CAPITALISED.match(sentence, begin):
            continue
        found.add(sentence[begin:end])
    return found


def name_found(name: str, passage_words: set[str]) -> bool:
    """"Russian" is found in a passage that says "Russia": a shared stem of 5+ letters."""
    if name in passage_words:
        return True
    if len(name) < 5:
        return False
    for word in passage_words:
        common = 0
        for a, b in zip(name, word):
            if a != b:
                break
            common += 1
        if common >= 5 and common >= 0.75 * min(len(name), len(word)):
            return True
    return False
