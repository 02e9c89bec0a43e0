"""What kind of thing a question asks for, and where a text holds things of that kind.

One home for the patterns that the extractive answerer (typed spans for
"how many / when / who" questions) and the grounding check (the numbers and
names a generated sentence must share with its passage) both lean on.
"""

from __future__ import annotations

import re

from seedqa.text import STOPWORDS, Span, stem, word_spans

# --- what a question asks for, and spans of that kind ---------------------------

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions billion billions dozen dozens"
).split()
_MONTHS = ("january february march april may june july august september october november "
           "december jan feb mar apr jun jul aug sep sept oct nov dec").split()
_NUMBER = re.compile(
    r"(?:(?:more than|at least|at most|about|around|over|nearly|almost|up to|some)\s+)?"
    r"(?:\d+(?:[.,]\d+)*(?:\s?(?:%|percent|per cent|km|kg|lb|m|mph|miles?|metres?|meters?|tons?|"
    r"tonnes?|million|billion|thousand|hundred))?"
    r"|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b(?:[- ](?:" + "|".join(_NUMBER_WORDS) + r")\b)*)"
    r"(?:\s?\(\d+(?:[.,]\d+)*\s?\w+\))?",
    re.IGNORECASE,
)
_MONTH = r"(?:" + "|".join(m.capitalize() for m in _MONTHS) + r")\.?"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|(?:in\s+)?\d{{4}}s?|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|\d{{1,2}}(?:st|nd|rd|th)\s+century)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+|von\s+)?[A-Z][\w'’.-]*)*")

_WHAT_X = re.compile(r"\b(?:what|which)\s+((?:[\w'’-]+\s+){0,2}?[\w'’-]+)\s+"
                     r"(?:did|do|does|is|was|are|were|has|have|had|can|could|will|would)\b", re.I)


def answer_type(question: str) -> str | None:
    """The noun a "what X did ..." question asks for ("infrastructure"), if it names one."""
    match = _WHAT_X.search(question)
    return match.group(1) if match else None

_QUESTION_TYPES = (
    ("number", re.compile(r"\bhow (?:many|much|long|far|old|large|big|heavy|tall|high)\b|"
                          r"\bwhat (?:number|percentage|proportion|amount)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|century|time)\b|"
                        r"\bwhich (?:year|date|day|month|century)\b", re.I)),
    ("name", re.compile(r"\bwho(?:m|se)?\b|\bwhere\b|\bwhich (?:country|city|place|company)\b", re.I)),
)


_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+((?:[\w'’-]+\s*){1,3})", re.I)
_AUXILIARIES = frozenset("did do does were was are is have has had will would can could "
                         "should might may must".split())
_FILLERS = frozenset("of the a an".split())


def counted_words(question: str) -> set[str]:
    """What a "how many X ..." question counts: the stems of X ("of them", "drones")."""
    match = _HOW_MANY.search(question)
    if not match:
        return set()
    head = []
    for word in match.group(1).lower().split():
        if word in _AUXILIARIES:
            break
        head.append(word)
    return {stem(word) for word in head if word not in _FILLERS}


def question_type(question: str) -> str | None:
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def typed_spans(kind: str, text: str) -> list[Span]:
    """Where `text` holds something of `kind` ("number", "date" or "name")."""
    pattern = {"number": _NUMBER, "date": _DATE, "name": _NAME}[kind]
    return [match.span() for match in pattern.finditer(text) if match.group().strip()]


# --- the numbers and names a text states ------------------------------------------

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*")
_NUMBER_VALUES = {word: str(value) for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
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
