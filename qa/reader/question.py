"""What a question asks for: its weighted terms, the kind of answer, its key names.

Shared by the sentence, span and confidence features (qa/reader/features.py,
qa/reader/spans.py), at fitting time and at query time alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.reader.names import key_form
from seedqa.text import STOPWORDS, stem, terms, word_spans

# Answer kinds, finest first: a "how much did it cost" question wants money, a
# "how long did it take" question a duration. Each maps to the span types that
# can answer it (qa/reader/spans.py's `span_types`).
KINDS = ("money", "percent", "duration", "count", "quantity", "age", "date", "person",
         "place", "name", "thing", "reason", "other")
# Kinds answered by a figure: their spans have their own threshold (qa/reader/model.py).
FIGURE_KINDS = ("money", "percent", "duration", "count", "quantity", "age", "date")

_MONEY_WORDS = (r"cost|costs|pay|paid|pays|price|priced|worth|spend|spent|earn|earned|earns|"
                r"raise|raised|fund|funding|budget|prize|fee|fees|salary|money|revenue|profit|"
                r"loss|sell|sold|charge|charged|owe|owed|dollars?|pounds?|euros?|takings|gross|get|"
                r"gets|got|receive|received|receives|win|won|wins|award|awarded|given|fine|"
                r"fined|bid|offer|offered|invest|invested|bonus|deal|sale|sales|compensation|"
                r"damages|seek|seeking|sought|bill|tax|taxes|wages?|loans?|debts?|fare|rent")
_MONEY_NOUNS = (r"cost|costs|price|prices|fee|fees|prize|sum|budget|salary|profit|profits|bid|"
                r"fine|revenue|revenues|takings|earnings|damages|compensation|valuation|turnover|"
                r"wage|wages|fare|rent|loss|losses")
_COUNT_NOUNS = (r"appearances|caps|goals|jobs|employees|staff|members|viewers|visitors|votes|"
                r"seats|copies|deaths|casualties|victims|people|passengers|subscribers|users|"
                r"customers|players|tries|wins|medals|titles|stores|shops|branches")
# A terse keyword query ("Acme annual profit 2004", "Jones career appearances")
# has no question word: the noun it ends on or holds says what it wants.
_NO_QUESTION_WORD = r"^(?!.*\b(?:what|which|who|whom|whose|when|where|why|how)\b)"
_KIND_PATTERNS = (
    ("percent", re.compile(r"\b(?:what|which) (?:percentage|percent|proportion|share|fraction)\b|"
                           r"\bhow much percent|\bwhat per ?cent", re.I)),
    ("money", re.compile(rf"\bhow much\b(?=.*\b(?:{_MONEY_WORDS})\b)|"
                         r"\bhow much money\b|\bwhat (?:was |is |were |are |will be )?"
                         r"(?:the |its |his |her |their )?(?:\w+ )?(?:level of |amount of )?"
                         rf"(?:{_MONEY_NOUNS}|amount of money)\b|"
                         rf"{_NO_QUESTION_WORD}.*\b(?:{_MONEY_NOUNS}|worth|value|paid|pay)\b",
                         re.I)),
    # "How old is he?": an age ("the 79-year-old", "aged 79", "Mr Greenspan, 79,"), not
    # any number in a sentence naming him ("the 14th lecture", "odds of 40-1").
    ("age", re.compile(r"\bhow old\b|\bat what age\b|\bwhat age\b|\bwhat(?:'s| is| was| were| "
                       r"are) (?:the |his |her |their |its )?ages?\b|"
                       rf"{_NO_QUESTION_WORD}.*\bage\b", re.I)),
    ("duration", re.compile(r"\bhow long\b(?! (?:is|was|are|were) (?:the|a|an|it|this|that)\b"
                            r"(?! (?:\w+ )?(?:war|period|reign|journey|trip|term|delay|wait)))|"
                            r"\bfor how (?:long|many (?:years|days|months|weeks|hours|minutes))\b|"
                            r"\bhow many (?:years|days|months|weeks|hours|minutes|seconds|"
                            r"decades|centuries) (?:did|does|do|had|has|have|was|were|will|would|"
                            r"after|before|ago)", re.I)),
    ("count", re.compile(r"\bhow many\b|\bwhat number of\b|\bthe number of\b|"
                         rf"{_NO_QUESTION_WORD}.*\b(?:{_COUNT_NOUNS}|number of)\b", re.I)),
    ("quantity", re.compile(r"\bhow (?:much|long|far|old|large|big|heavy|tall|high|deep|fast|"
                            r"wide|often|small|hot|cold)\b|\bwhat (?:number|amount|size|"
                            r"speed|distance|height|weight|length|area|population|temperature|"
                            r"age)\b|\bwhat(?:'s| is| was| are| were) (?:the|its|his|her|their) "
                            r"(?:speed|distance|height|weight|length|area|population|"
                            r"temperature|age|range|size|capacity|depth|width)\b|"
                            rf"{_NO_QUESTION_WORD}.*\b(?:age|height|weight|distance|speed|"
                            r"size|length|population|range|capacity|depth|width)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which|in what|by what) (?:year|years|date|day|"
                        r"month|century|decade|time|period|era|season)\b|"
                        rf"{_NO_QUESTION_WORD}.*\bdate\b", re.I)),
    ("person", re.compile(r"\bwho(?:m|se)?\b|\b(?:what|which) (?:person|man|woman|king|queen|"
                          r"president|leader|author|writer|artist|scientist|emperor|player|"
                          r"actor|singer|director|ruler|pope|general|minister|chancellor|"
                          r"composer|poet|son|daughter|wife|husband|father|mother)\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(?:what|which|in what|in which) (?:country|countries|city|"
                         r"cities|place|region|state|town|village|river|continent|island|area|"
                         r"location|county|province|nation|street|building|mountain|sea|"
                         r"ocean|capital)\b", re.I)),
    # "Which club ...", "What is the new engine called?": a named thing (a firm, a film, a
    # title), not a person or place (asked above), nor a description ("which kind of").
    ("name", re.compile(r"\bwhich\s+(?!(?:of|one|ones|type|types|kind|kinds|sort|sorts|way|"
                        r"part|parts|aspect|aspects|form|forms|method|methods|reason|reasons)\b)"
                        r"[a-z]|\b(?:called|named|titled|entitled|known as|name)\s*\??\s*$|"
                        r"\bwhat(?:'s| is| was| are| were)\s+(?:the|its|his|her|their)\s+"
                        r"(?:name|title)s?\b", re.I)),
    ("reason", re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat (?:caused|causes|led to)\b", re.I)),
    ("thing", re.compile(r"\bwhat\b|\bwhich\b|\bname\b", re.I)),
)

_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how name did do does is was are were has have "
    "had can could will would should in on at by for of the a an according".split())
_NUMBERISH = re.compile(r"^\d[\d,.]*\w*$")

_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+((?:[\w'’-]+\s*){1,3})", re.I)
_AUXILIARIES = frozenset("did do does were was are is have has had will would can could "
                         "should might may must".split())
_WHAT_X = re.compile(r"\b(?:what|which)\s+((?:[\w'’-]+\s+){0,2}?[\w'’-]+)\s+"
                     r"(?:did|do|does|is|was|are|were|has|have|had|can|could|will|would)\b", re.I)


def answer_kind(question: str) -> str:
    """The finest kind of answer the question asks for (one of `KINDS`)."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return "other"


def key_names(question: str) -> tuple[str, ...]:
    """Stems of the question's names and numbers: capitalised words past its first, digits.

    "How many drones did Belarus fire at Poland?" -> ("belarus", "poland"). A passage
    that holds none of them is about something else, however well the rest matches.
    """
    found = []
    for position, (word, begin, end) in enumerate(word_spans(question)):
        original = question[begin:end]
        if _NUMBERISH.match(original) or (
                position > 0 and original[:1].isupper() and word not in _QUESTION_WORDS
                and word not in STOPWORDS):
            found.append(key_form(original, stem(word)))
    return tuple(dict.fromkeys(found))


def counted_words(question: str) -> frozenset[str]:
    """What a "how many X ..." question counts: the stems of X ("drones", "of them")."""
    match = _HOW_MANY.search(question)
    if not match:
        return frozenset()
    head = []
    for word in match.group(1).lower().split():
        if word in _AUXILIARIES:
            break
        head.append(word)
    return frozenset(stem(word) for word in head if word not in {"of", "the", "a", "an"})


_PROPERTY = re.compile(r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the|its|their|his|her)\s+"
                       r"((?:[\w'’-]+\s+)?[\w'’-]+)\s+(?:of|in|for|at)\b", re.I)
# Measures a text states with their word ("a population of 1 million", "a range of
# 2,500km"). Other properties it may give without naming them: a nickname as "known as
# ...", an address as "140 West Street", a cost as "£5m" (68 answerable training
# questions abstained when every "what is the X of" needed X in the text, none
# unanswerable did).
_MEASURES = frozenset(terms("population area size length width depth height weight range "
                            "capacity speed distance temperature age"))


def asked_property(question: str) -> frozenset[str]:
    """The measure a "what is the X of Y" question asks of Y ("population"): a document
    that never says "population" does not give Odesa's population, however much it
    says about Odesa, so the answerer abstains rather than quote it."""
    match = _PROPERTY.search(question)
    return frozenset(terms(match.group(1))) & _MEASURES if match else frozenset()


def asked_noun(question: str) -> frozenset[str]:
    """The noun a "what X did ..." question names ("infrastructure"): the answer is an X."""
    match = _WHAT_X.search(question)
    return frozenset(terms(match.group(1))) if match else frozenset()


@dataclass(frozen=True)
class QuestionProfile:
    """A question read once, for every feature that looks at it."""

    text: str
    weights: dict[str, float]  # stemmed term -> idf (an earlier question's terms at half)
    terms: tuple[str, ...]
    bigrams: frozenset[tuple[str, str]]
    word_stems: frozenset[str]  # every word of the question, stop words included, stemmed
    current: frozenset[str]  # this question's own terms (not the earlier one's)
    kind: str
    names: tuple[str, ...]
    counted: frozenset[str]
    noun: frozenset[str]
    asked: frozenset[str] = frozenset()  # the property a "what is the X of" question asks

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    @classmethod
    def of(cls, question: str, idf: Callable[[str], float],
           earlier: Sequence[str] = ()) -> QuestionProfile:
        own = terms(question)
        weights = {term: idf(term) for term in own}
        for before in earlier:
            for term in terms(before):
                weights.setdefault(term, 0.5 * idf(term))
        return cls(
            text=question,
            weights=weights,
            terms=tuple(own),
            bigrams=frozenset(zip(own, own[1:])),
            word_stems=frozenset(stem(word) for word, _, _ in word_spans(question)),
            current=frozenset(own),
            kind=answer_kind(question),
            names=key_names(question),
            counted=counted_words(question),
            noun=asked_noun(question),
            asked=asked_property(question),
        )
