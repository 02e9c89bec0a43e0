"""What `seedqa ask` prints: the answer (streamed for an LLM), its sources, what failed the check.

Printing is kept apart from the commands so that the command stays a few lines
and the layout is written once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from qa import Answer, Assistant, Citation, DocumentRecord
from seedqa.terminal import safe
from seedqa.text import excerpt

EXCERPT_CHARS = 320  # of a passage under its number: about 50 words


def print_answer(assistant: Assistant, question: str, *, as_json: bool) -> None:
    """Answer `question` and print it: as JSON, or as text with numbered sources."""
    if as_json:
        click.echo(assistant.answer(question).to_json())
        return
    if assistant.settings.llm_backend == "extractive":
        answer, streamed = assistant.answer(question), ""
    else:
        answer, streamed = _stream(assistant, question)
    if answer.fallback:
        if streamed:
            click.echo("\n(The passages do not support what the model wrote; quoting them instead.)")
        click.echo(safe(_plain(answer.text)))
    elif not streamed or answer.abstained:
        click.echo(safe(_plain(answer.text)))
    if answer.unsupported:
        click.echo("\nNot supported by the cited passages:")
        for sentence in answer.unsupported:
            click.echo(f"  ✗ {safe(sentence, one_line=True)}")
    _print_sources(answer)
    if answer.alternatives:
        click.echo("\nOther possible answers, from other passages:")
        for other in answer.alternatives:
            where = Path(other.citation.source).name
            click.echo(f"  - {safe(_plain(other.text))} ({safe(other.citation.title, one_line=True)}, "
                       f"{safe(where, one_line=True)})")


def _stream(assistant: Assistant, question: str) -> tuple[Answer, str]:
    """Print an LLM's answer as it arrives; returns the final Answer and the text printed."""
    shown = ""
    answer = None
    for answer in assistant.stream(question):
        if answer.partial and answer.text.startswith(shown):
            click.echo(safe(_plain(answer.text[len(shown):])), nl=False)
            shown = answer.text
    if shown:
        click.echo()
    return answer, shown


def _print_sources(answer: Answer) -> None:
    click.echo("\nClosest passages:" if answer.abstained else "\nSources:")
    for number, citation in enumerate(answer.citations, 1):
        details = ", ".join(
            part for part in (citation.date, f"page {citation.page}" if citation.page else None)
            if part
        )
        where = Path(citation.source).name + (f", {details}" if details else "")
        click.echo(f"[{number}] {safe(citation.title, one_line=True)} "
                   f"({safe(where, one_line=True)})")
        click.echo(f"    “{safe(excerpt(citation.text, answer.focus, EXCERPT_CHARS))}”")


def _plain(text: str) -> str:
    return text.replace("**", "")


def print_passages(passages: Sequence[Citation], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([passage.to_dict() for passage in passages], ensure_ascii=False,
                              indent=2))
        return
    for number, passage in enumerate(passages, 1):
        where = Path(passage.source).name + (f", page {passage.page}" if passage.page else "")
        click.echo(f"[{number}] {passage.score:.3f}  {safe(passage.title, one_line=True)} "
                   f"({safe(where, one_line=True)})")
        click.echo(f"    “{safe(excerpt(passage.text, None, EXCERPT_CHARS))}”")


def print_documents(records: Sequence[DocumentRecord], *, as_json: bool = False) -> None:
    """`Assistant.documents()`, a line (or a JSON object) each."""
    if as_json:
        rows = [{"source": r.source, "title": r.title, "date": r.date, "chunks": r.chunks,
                 "chars": r.chars, "ingested_at": r.ingested_at} for r in records]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("The index is empty; add documents with: seedqa ingest PATH")
    for record in records:
        fields = (record.title, record.date or "no date", f"{record.chunks} chunks", record.source)
        click.echo(" | ".join(safe(field, one_line=True) for field in fields))
