"""Turn answers, passages and document lists into HTML, escaping every piece of document text.

Document text is untrusted: a passage may hold `<script>` or `<img onerror=...>`.
Everything that came from a document (passages, titles, dates, sources, and the
answer text, which is quoted from passages) goes through `_text`, which escapes
it for HTML and also neutralises the characters that Markdown or a template
would read (`*`, `_`, `[`, `$`, `{`...), so it shows literally wherever Gradio
puts it. The only markup in the output is the markup written here.

Citation buttons name their answer and number in classes (`seedqa-turn-2
seedqa-n-1`: the Chatbot's sanitiser drops `data-*` attributes but keeps
classes); the page script in `ui.assets` turns a click on one into an event
that names that citation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.types import MARKER, marker_numbers
from seedqa.text import clip, excerpt, fold_lines, locate

if TYPE_CHECKING:
    from qa import Answer, Citation

# Characters that Markdown, LaTeX or Gradio's HTML templates would interpret.
_NEUTRAL = str.maketrans(
    {char: f"&#{ord(char)};" for char in "\\`*_{}[]()#+-.!|~$<>&\"'=:"}
)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

CONTEXT_CHARS = 700  # characters of document shown on each side of a cited passage
EXCERPT_CHARS = 220  # characters of a passage shown under an answer
TITLE_CHARS = 70  # characters of a title in an example question


def _text(value: object) -> str:
    """Untrusted text as inert HTML: escaped, Markdown-neutral, newlines as `<br>`.

    The result never holds a blank line, so Markdown renderers treat a message
    that starts with `<div>` as one raw HTML block.
    """
    escaped = str(value).translate(_NEUTRAL)
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)


def _meta(citation: Citation) -> str:
    """The date and page, such as `2026-01-27 · page 3`, whichever the citation has."""
    parts = []
    if citation.date:
        parts.append(_text(citation.date))
    if citation.page:
        parts.append(f"page {int(citation.page)}")
    return " · ".join(parts)


def _emphasised(text: str, focus: str | None) -> str:
    found = locate(text, focus)
    if not found:
        return _text(text)
    at, end = found
    focus_html = f'<strong class="seedqa-focus">{_text(text[at:end])}</strong>'
    return _text(text[:at]) + focus_html + _text(text[end:])


def cite_button(turn: int, n: int, label: str | None = None) -> str:
    label = label or f"[{n}]"
    return (
        f'<button type="button" class="seedqa-cite seedqa-turn-{int(turn)} seedqa-n-{int(n)}" '
        f'title="Show passage {int(n)} in its document">{_text(label)}</button>'
    )


def answer_text(text: str, turn: int | None, citations: int) -> str:
    """Answer text with `**span**` in bold and `[n]` markers as citation buttons.

    `turn` is None while the answer is still streaming: markers stay plain text.
    """
    escaped = _text(text).replace("&#42;", "*").replace("&#91;", "[").replace("&#93;", "]")
    escaped = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", escaped)

    def marker(match: re.Match) -> str:
        numbers = marker_numbers(match.group(1))
        if turn is not None and all(1 <= n <= citations for n in numbers):
            return "".join(cite_button(turn, n) for n in numbers)
        return f"&#91;{match.group(1)}&#93;"

    escaped = MARKER.sub(marker, escaped)
    # Brackets and stars left over (not markers, not bold) go back to inert entities.
    return escaped.replace("[", "&#91;").replace("]", "&#93;").replace("*", "&#42;")


def _sources(answer: Answer, turn: int) -> str:
    focus = answer.focus
    items = []
    for n, citation in enumerate(answer.citations, start=1):
        meta = _meta(citation)
        items.append(
            '<li class="seedqa-source">'
            f"{cite_button(turn, n)} "
            f'<span class="seedqa-source-title">{_text(citation.title or _file_name(citation.source))}'
            "</span>"
            + (f' <span class="seedqa-source-meta">{meta}</span>' if meta else "")
            + f'<div class="seedqa-excerpt">{_text(excerpt(citation.text, focus, EXCERPT_CHARS))}</div>'
            "</li>"
        )
    heading = (
        "Closest passages (they do not answer the question)"
        if answer.abstained
        else "Cited passages"
    )
    return (
        f'<div class="seedqa-sources-heading">{heading}</div>'
        f'<ol class="seedqa-sources">{"".join(items)}</ol>'
    )


def answer_message(answer: Answer, turn: int, *, final: bool = True) -> str:
    """One assistant message: the answer, then its numbered passages.

    Abstentions get their own class and heading, so they read differently from
    answers at a glance.
    """
    kind = "seedqa-abstained" if answer.abstained else "seedqa-answered"
    state = "" if final else " seedqa-streaming"
    body = answer_text(answer.text, turn if final else None, len(answer.citations))
    parts = [f'<div class="seedqa-answer {kind}{state}">']
    if answer.abstained and final:
        parts.append('<div class="seedqa-badge">Not in the documents</div>')
    elif not answer.sure and final:
        parts.append('<div class="seedqa-badge seedqa-unsure">Not sure</div>')
    parts.append(f'<div class="seedqa-answer-text">{body}</div>')
    if final and answer.citations:
        parts.append(_sources(answer, turn))
    if final and answer.alternatives:
        parts.append(_alternatives(answer))
    parts.append("</div>")
    return "".join(parts)


def _alternatives(answer: Answer) -> str:
    """The next best answers from other passages, each with the passage it comes from."""
    items = [
        '<li class="seedqa-source">'
        f'<div class="seedqa-answer-text">{answer_text(other.text, None, 0)}</div>'
        f'<span class="seedqa-source-title">{_text(other.citation.title or _file_name(other.citation.source))}</span>'
        + (f' <span class="seedqa-source-meta">{_meta(other.citation)}</span>'
           if _meta(other.citation) else "")
        + f'<div class="seedqa-excerpt">{_text(excerpt(other.citation.text, other.text.replace("**", ""), EXCERPT_CHARS))}</div>'
        "</li>"
        for other in answer.alternatives
    ]
    return ('<div class="seedqa-sources-heading">Other possible answers, from other passages</div>'
            f'<ol class="seedqa-sources seedqa-alternatives">{"".join(items)}</ol>')


def pending_message() -> str:
    return ('<div class="seedqa-answer seedqa-streaming">'
            '<div class="seedqa-answer-text">Searching the documents…</div></div>')


def error_message(message: str) -> str:
    return (
        '<div class="seedqa-answer seedqa-error">'
        '<div class="seedqa-badge">Could not answer</div>'
        f'<div class="seedqa-answer-text">{_text(message)}</div></div>'
    )


def question_message(question: str) -> str:
    return f'<div class="seedqa-question">{_text(question)}</div>'


def passage_in_context(citation: Citation, n: int, document: str, focus: str | None = None,
                       name: str | None = None) -> str:
    """The cited passage highlighted inside the text around it in its document.

    `focus` (the answer's sentence) is set in bold inside the highlight when it is there.
    """
    start, end = citation.start, citation.end
    if document[start:end] != citation.text:  # the document changed since the answer
        found = document.find(citation.text)
        if found == -1:
            document, found = citation.text, 0
        start, end = found, found + len(citation.text)
    begin = max(0, start - CONTEXT_CHARS)
    if begin > 0:
        space = document.find(" ", begin, start)
        begin = space + 1 if space != -1 else begin
    finish = min(len(document), end + CONTEXT_CHARS)
    if finish < len(document):
        space = document.rfind(" ", end, finish)
        finish = space if space != -1 else finish
    meta = _meta(citation)
    window = fold_lines(document[begin:finish])  # hard-wrapped PDF lines read as sentences
    here, there = start - begin, end - begin
    shown = name or _file_name(citation.source)  # every client sees it: a name, not a path
    return (
        '<div class="seedqa-passage">'
        f'<div class="seedqa-passage-head"><span class="seedqa-cite-label">[{int(n)}]</span> '
        f'<span class="seedqa-source-title">{_text(citation.title or shown)}</span>'
        + (f' <span class="seedqa-source-meta">{meta}</span>' if meta else "")
        + f'<div class="seedqa-source-path">{_text(shown)} · characters {start}–{end}</div>'
        + "</div>"
        '<div class="seedqa-context">'
        + ("… " if begin > 0 else "")
        + _text(window[:here])
        + f'<mark class="seedqa-highlight">{_emphasised(window[here:there], focus)}</mark>'
        + _text(window[there:])
        + (" …" if finish < len(document) else "")
        + "</div></div>"
    )


def size(nbytes: float) -> str:
    return f"{nbytes / 1e6:.1f} MB" if nbytes >= 1e5 else f"{nbytes / 1e3:.0f} kB"


def notice(message: str, kind: str = "info") -> str:
    return f'<div class="seedqa-notice seedqa-notice-{_attr(kind)}">{_text(message)}</div>'


PASSAGE_PLACEHOLDER = notice("Click a citation such as [1] to read the passage in its document.")


def _file_name(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def _shown(source: str, names: dict[str, str]) -> str:
    return names.get(source) or _file_name(source)


def documents_table(records: Sequence, names: dict[str, str] | None = None) -> str:
    """The documents list; `names` maps a source to the name shown (default: its file name)."""
    names = names or {}
    if not records:
        return notice("No documents yet. Upload a file below to start.", "warning")
    rows = "".join(
        "<tr>"
        f'<td class="seedqa-doc-title" title="{_attr(_shown(record.source, names))}">'
        f"{_text(record.title or _shown(record.source, names))}</td>"
        f"<td>{_text(record.date or '–')}</td>"
        f'<td class="seedqa-doc-chunks">{int(record.chunks)}</td>'
        "</tr>"
        for record in records
    )
    return (
        '<table class="seedqa-documents"><thead><tr><th>Title</th><th>Date</th><th>Chunks</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def example_questions(records: Sequence, limit: int = 4) -> list[str]:
    """Questions to click, one per document, newest documents first."""
    newest = sorted(records, key=lambda r: (getattr(r, "ingested_at", 0.0), r.title), reverse=True)
    questions = []
    for record in newest[:limit]:
        title = clip(record.title or "", TITLE_CHARS).rstrip("…").rstrip(" .,;:!?")
        if title:
            questions.append(f"What is “{title}” about?")
    return questions


def examples_html(questions: Sequence[str]) -> str:
    if not questions:
        return ""
    buttons = "".join(
        f'<button type="button" class="seedqa-example" data-question="{_attr(q)}">{_text(q)}</button>'
        for q in questions
    )
    return f'<div class="seedqa-examples"><span class="seedqa-examples-label">Try:</span> {buttons}</div>'
