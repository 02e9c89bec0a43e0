"""Asking a question set of an assistant and scoring every answer.

`evaluate` asks each question (after its history, as a conversation) and
returns an `EvalResult`; `score` judges one answer. The command is
`seedqa eval` (cli/eval.py); `benchmarks/` reuses the same functions, so the
baseline and seedqa are scored by the same code.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evaluation.metrics import answer_rank, first_hit_rank
from evaluation.questions import Question, answer_body, find_any, is_correct_passage
from evaluation.records import CitationCheck, EvalResult, QuestionRecord
from qa.types import MARKER, marker_numbers


def peak_memory_mb() -> float:
    """This process's resident set high-water mark, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def machine_info() -> dict:
    """What the numbers were measured on."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model() or platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gb": round(memory, 1) if memory else None,
        "python": platform.python_version(),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cited_citations(answer: Any) -> list[Any]:
    """The citations an answer points at with `[n]` markers; all of them if it has none."""
    numbers = {number for group in MARKER.findall(answer.text) for number in marker_numbers(group)}
    picked = [c for n, c in enumerate(answer.citations, start=1) if n in numbers]
    return picked or list(answer.citations)


def score(
    question: Question,
    answer: Any,
    retrieved: Sequence[Any],
    seconds: float = 0.0,
    retrieve_seconds: float = 0.0,
) -> QuestionRecord:
    """Judge one answer (an `Answer`) and the passages retrieved for its question."""
    checks = tuple(
        CitationCheck(
            source=c.source,
            title=c.title,
            text=c.text,
            score=float(c.score),
            chunk_id=c.chunk_id,
            correct=question.answerable and is_correct_passage(question, c.text, c.source),
        )
        for c in (cited_citations(answer) if not answer.abstained else [])
    )
    if question.answerable:
        matched = None if answer.abstained else find_any(answer_body(answer.text), question.answers)
        correct = matched is not None
        if answer.abstained:
            why = "abstained on an answerable question"
        elif matched is not None:
            why = f"answer contains {matched!r}"
        else:
            why = "answer contains none of " + " | ".join(repr(a) for a in question.answers)
        if correct and not any(check.correct for check in checks):
            why += "; no cited passage backs it"
    else:
        correct = bool(answer.abstained)
        why = (
            "abstained as expected"
            if correct
            else "answered a question the documents do not answer"
        )
    ranks: tuple[int | None, int | None] = (None, None)
    span_correct = None
    if question.answerable:
        ranks = (
            answer_rank([c.text for c in retrieved], question.answers),
            first_hit_rank(is_correct_passage(question, c.text, c.source) for c in retrieved),
        )
        if answer.span and not answer.abstained:
            span_correct = find_any(answer.span, question.answers) is not None
    return QuestionRecord(
        id=question.id,
        question=question.question,
        history=question.history,
        answerable=question.answerable,
        accepted=question.answers,
        answer=answer.text,
        span=answer.span,
        abstained=bool(answer.abstained),
        confidence=float(answer.confidence),
        citations=checks,
        correct=correct,
        why=why,
        span_correct=span_correct,
        answer_rank=ranks[0],
        passage_rank=ranks[1],
        retrieved=tuple(f"{Path(c.source).name}#{c.chunk_id}" for c in retrieved),
        seconds=seconds,
        retrieve_seconds=retrieve_seconds,
    )


def chat_history(assistant: Any, questions: Sequence[str], cache: dict) -> list[dict]:
    """Ask earlier questions in order, feeding each answer back, as Gradio-style messages.

    `cache` maps a conversation prefix to its last answer, so that questions
    sharing a history ask it once.
    """
    history: list[dict] = []
    for index, question in enumerate(questions):
        key = tuple(questions[: index + 1])
        if key not in cache:
            cache[key] = assistant.answer(question, history=list(history) or None).text
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": cache[key]},
        ]
    return history


def evaluate(
    assistant: Any,
    questions: Sequence[Question],
    k: int = 10,
    progress: Callable[[QuestionRecord], None] | None = None,
) -> EvalResult:
    """Ask every question of `assistant` (an `Assistant` over an index) and score it.

    For each question: its `history` is asked first, then the question is
    answered (timed: `seconds`) and the top `k` passages retrieved (timed
    apart). `progress`, if given, is called with each finished record.
    The first question is asked once before timing starts, so that loading
    the model and the lexical index shows up as `warmup_seconds`, not as
    one slow question.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    begin = time.perf_counter()
    warmup_seconds = None
    if questions:
        assistant.answer(questions[0].question)
        warmup_seconds = time.perf_counter() - begin
    cache: dict = {}
    records = []
    for question in questions:
        history = chat_history(assistant, question.history, cache) or None
        tick = time.perf_counter()
        answer = assistant.answer(question.question, history=history)
        seconds = time.perf_counter() - tick
        tick = time.perf_counter()
        retrieved = assistant.retrieve(question.question, k=k, history=history)
        retrieve_seconds = time.perf_counter() - tick
        record = score(question, answer, retrieved, seconds, retrieve_seconds)
        records.append(record)
        if progress:
            progress(record)
    return EvalResult(
        records=tuple(records),
        k=k,
        started_at=started_at,
        seconds=time.perf_counter() - begin,
        peak_memory_mb=peak_memory_mb(),
        warmup_seconds=warmup_seconds,
    )
