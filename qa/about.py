"""Questions about a document itself: "When was the report published?", "Who wrote it?".

The answer is not in any sentence of the text but in what the index knows of
the document: the date it states (ingest reads a leading `date` line, front
matter or an HTML `<meta>` date) and a byline ("By Jane Smith" at its top).
The document is the one retrieval ranked first for the question, so "When was
the Odesa report published?" picks the Odesa report in a collection. The
answer cites that document's first passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa import prompts
from qa.types import Answer, Citation
from seedqa.text import terms

_NOUNS = "report|article|story|document|piece|bulletin|update|paper|memo|post|page|release|text|file"
_DOCUMENT = rf"(?:{_NOUNS}|it|this|that)"
_DATE_OF = re.compile(
    rf"\b(?:when|what (?:date|day))\b.*\b{_DOCUMENT}\b.*\b(?:published|written|dated|released|"
    rf"issued|posted|filed|came out|come out|from)\b|\b(?:date|day) of (?:the |this )?{_DOCUMENT}\b|"
    rf"\bhow old is (?:the |this )?{_DOCUMENT}\b", re.IGNORECASE)
_AUTHOR_OF = re.compile(
    rf"\bwho (?:wrote|has written|authored|filed|reported)\b.*\b{_DOCUMENT}\b|"
    rf"\bwho (?:wrote|is the author)\b\W*$|\bauthor of (?:the |this )?{_DOCUMENT}\b|\bbyline\b",
    re.IGNORECASE)
_BYLINE = re.compile(r"^\s*By ((?:[A-Z][\w.'’-]+ ?){1,4})\s*$", re.MULTILINE)
_TOP = 600  # characters at the top of a document where a byline stands


_NAMED_DOCUMENT = re.compile(rf"\b(?:{_NOUNS})\b", re.IGNORECASE)


def asks_about_document(question: str, follow_up: bool = False) -> str | None:
    """"date" or "author" when the question asks that of a document; else None.

    In a conversation "When was it written?" may mean the letter just talked
    about: there the document must be named ("the report").
    """
    if follow_up and not _NAMED_DOCUMENT.search(question):
        return None
    if _AUTHOR_OF.search(question):
        return "author"
    if _DATE_OF.search(question):
        return "date"
    return None


def answer_about_document(question: str, kind: str, passages: Sequence[Citation],
                          document_text: Callable[[str], str],
                          opening: Callable[[str], Citation | None]) -> Answer | None:
    """The answer from the best-ranked document that states it; None when nothing was retrieved.

    "When was the report published?" in a collection goes to the first
    retrieved document that states a date; when none of them does, seedqa says so.
    """
    if not passages:
        return None
    sources = list(dict.fromkeys(passage.source for passage in passages))
    if _names_a_document(question):  # "Who wrote the Odesa report?": that one, or nothing
        sources = sources[:1]
    for source in sources:
        first = opening(source) or passages[0]
        found = first.date if kind == "date" else _byline(document_text(source)[:_TOP])
        if found is not None:
            body = prompts.message(f"document_{kind}", title=_title(first), **{kind: found})
            return Answer(question=question, text=body.replace(found, f"**{found}**", 1) + " [1]",
                          citations=(first,), span=found, confidence=1.0)
    first = opening(sources[0]) or passages[0]
    return Answer(question=question, abstained=True, citations=(first,), confidence=0.0,
                  text=prompts.message("document_unknown", title=_title(first), what=kind))


_GENERIC = frozenset(terms(_NOUNS.replace("|", " ") + " published written dated released issued "
                         "posted filed came come date day author wrote write byline old"))


def _names_a_document(question: str) -> bool:
    """Does the question say which document, beyond "the report"?"""
    return any(term not in _GENERIC for term in terms(question))


def _title(citation: Citation) -> str:
    return f"“{citation.title}”" if citation.title else "The document"


def _byline(top: str) -> str | None:
    match = _BYLINE.search(top)
    return match.group(1).strip() if match else None
