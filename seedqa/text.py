"""Text helpers shared by ingest (chunking) and qa (lexical scoring, answers).

Everything works on character offsets into the original text, so that a
passage or an answer sentence can always be shown in place.

The sentence splitter is our own, not pysbd: pysbd took 10.2 ms a SQuAD
paragraph against under 0.05 ms here (and agreed on the sentence count for
151 of 170 paragraphs); answering splits five passages per question, so
pysbd alone would cost 50 ms of a 40 ms budget.
"""

from __future__ import annotations

import functools
import re
import unicodedata

Span = tuple[int, int]

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt",
    "capt", "gov", "sen", "rep", "rev", "vs", "etc", "inc", "ltd", "co", "corp", "no",
    "fig", "approx", "e.g", "i.e", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.d", "b.c",
}
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
# A sentence ends at . ! ? (plus closing quotes/brackets) before white space and
# a character that can start a sentence.
# Only from the start of a run of marks, and without backtracking into it: the same
# matches, but a run of a million "!" is scanned once instead of a million times.
_SENTENCE_END = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+(?=\s+[\"'“‘(\[]?[A-Z0-9\u00C0-\u024F])")
_LIST_ITEM = re.compile(r"\s*(?:[-*•]|\d+[.)]|#+)\s")
_WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
_NEWLINE = re.compile(r"\n")


def paragraphs(text: str) -> list[Span]:
    """Spans of the blocks of text separated by blank lines."""
    spans, begin = [], 0
    for match in _PARAGRAPH.finditer(text):
        spans.append((begin, match.start()))
        begin = match.end()
    spans.append((begin, len(text)))
    return [_strip(text, span) for span in spans if text[span[0] : span[1]].strip()]


def _strip(text: str, span: Span) -> Span:
    begin, end = span
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    return begin, end


def _is_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"([\w.]+)$", text[max(0, dot - 12) : dot])
    if not word:
        return False
    token = word.group(1).lower().rstrip(".")
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _line_breaks(text: str, begin: int, end: int) -> list[int]:
    """Single newlines that end a line of its own (a heading, a list item, a caption).

    A newline inside hard-wrapped prose is not a break.
    """
    breaks = []
    line_start = begin
    # Matching in place, never on a slice of the rest: slicing made this quadratic
    # in the lines of one paragraph (200,000 short lines took 140 s).
    for match in _NEWLINE.finditer(text, begin, end):
        position = match.start()
        line = text[line_start:position].strip()
        if (
            not line
            or line[-1] in ".!?:;\"”’)"
            or len(line) < 60
            or _LIST_ITEM.match(text, position + 1, end)
        ):
            breaks.append(position)
        line_start = position + 1
    return breaks


def sentences(text: str, span: Span | None = None) -> list[Span]:
    """Sentence spans (start, end) within `span` of `text`, white space trimmed."""
    begin, end = span or (0, len(text))
    result = []
    for para_begin, para_end in paragraphs(text[begin:end]):
        para_begin += begin
        para_end += begin
        cuts = set(_line_breaks(text, para_begin, para_end))
        for match in _SENTENCE_END.finditer(text, para_begin, para_end):
            if text[match.start()] == "." and _is_abbreviation(text, match.start()):
                continue
            cuts.add(match.end())
        start = para_begin
        for cut in sorted(cuts):
            piece = _strip(text, (start, cut))
            if piece[1] > piece[0]:
                result.append(piece)
            start = cut
        piece = _strip(text, (start, para_end))
        if piece[1] > piece[0]:
            result.append(piece)
    return result


# The number words from zero to twenty, each at its value: NUMBER_WORDS[3] == "three".
NUMBER_WORDS = tuple("zero one two three four five six seven eight nine ten eleven twelve "
                     "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
                     "twenty".split())

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can cannot could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just let me more most my myself no nor not of off on once only or
    other ought our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself
    yourselves also did does many much whose whats wa ha doe s t""".split()
)


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem: "fired" and "fire" meet, "drones" and "drone" too."""
    return _stemmer().stemWord(word)


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class _Unmarked(dict):
    """A `str.translate` table that drops combining marks, filled as characters are met (a
    loop over the characters in Python costs four times as much)."""

    def __missing__(self, code: int) -> int | None:
        kept = self[code] = None if unicodedata.combining(chr(code)) else code
        return kept


_UNMARKED = _Unmarked()


def fold(text: str) -> str:
    """Lower case with accents removed, so "Café" and "cafe" match."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.lower()).translate(_UNMARKED)


def words(text: str) -> list[str]:
    """Folded word tokens (stop words included)."""
    return [match.group().replace("’", "'") for match in _WORD.finditer(fold(text))]


def terms(text: str) -> list[str]:
    """Stemmed content words: what lexical matching compares."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(folded word, start, end) for each word of `text`."""
    return [(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def clip(text: str, limit: int) -> str:
    """White space folded, cut at a word boundary before `limit` characters, with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


def locate(text: str, focus: str | None) -> Span | None:
    """Where `focus` (or, failing that, its opening words) sits in `text`.

    Probes under 8 characters are not trusted: they turn up anywhere.
    """
    for probe in (focus, (focus or "")[:60]):
        at = text.find(probe) if probe and len(probe) >= 8 else -1
        if at != -1:
            return at, at + len(probe)
    return None


def excerpt(text: str, focus: str | None, limit: int) -> str:
    """About `limit` characters of `text`, starting just before `focus` when it is there."""
    text = " ".join(text.split())
    found = locate(text, focus)
    if found and found[0] > 40:
        begin = text.rfind(" ", 0, found[0] - 40) + 1
        return "…" + clip(text[begin:], limit)
    return clip(text, limit)


def fold_lines(text: str) -> str:
    """Hard-wrapped lines (PDF, e-mail, HTML source) joined into their sentences.

    A newline stays where it ends a line of its own (a heading, a list item, a
    caption, a paragraph break: see `_line_breaks`); the others become spaces,
    so "the drone can\\ncarry a 90kg warhead" reads as one line.
    """
    if "\n" not in text:
        return text
    pieces, last = [], 0
    for begin, end in paragraphs(text):
        kept = set(_line_breaks(text, begin, end))
        pieces.append(text[last:begin])
        pieces.append("".join(" " if char == "\n" and begin + i not in kept else char
                              for i, char in enumerate(text[begin:end])))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
