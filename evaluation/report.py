"""Render an `EvalResult`: a terminal table, JSON files, and a Markdown and HTML report.

`write_report(result, out_dir)` writes:
- `results.json`: every metric, the curves, and what `result.info` holds
  (settings, files, machine);
- `results.jsonl`: one line per question (answer, citations, verdict, why);
- `report.md` with the plots beside it as PNG files, and `report.html`, which
  embeds the same plots (base64 PNG) so it can be mailed or archived alone.

Plots use matplotlib's Agg canvas directly (no pyplot, no global state), and
matplotlib is imported only when a report is written.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.plots import PLOTS, seconds_label as _sec
from evaluation.records import EvalResult, QuestionRecord
from seedqa.text import clip

MAX_LISTED_FAILURES = 200
"""Wrong answers listed in the report; results.jsonl has all of them."""


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _num(value: float) -> str:
    return f"{value:.3f}"


def _rate(value: float) -> str:
    return f"{value:.1f}/s"


def _mib(value: float) -> str:
    return f"{value:.0f} MiB"


def _count(value: float) -> str:
    return f"{value:,.0f}"


SECTIONS: list[tuple[str, list[tuple[str, str, Callable[[float], str]]]]] = [
    (
        "Retrieval (answerable questions)",
        [
            ("recall@1", "answer recall@1", _pct),
            ("recall@5", "answer recall@5", _pct),
            ("recall@10", "answer recall@10", _pct),
            ("mrr", "MRR", _num),
            ("passage_recall@1", "correct-passage recall@1", _pct),
            ("passage_recall@5", "correct-passage recall@5", _pct),
            ("passage_recall@10", "correct-passage recall@10", _pct),
        ],
    ),
    (
        "Answers",
        [
            ("accuracy", "correct, of answerable", _pct),
            ("accuracy_when_answered", "correct, of answerable not abstained", _pct),
            ("span_accuracy", "exact phrase right, of answers with one", _pct),
            ("abstention", "abstained, of unanswerable", _pct),
            ("false_abstention", "abstained, of answerable", _pct),
            ("abstention_auc", "abstention trade-off AUC", _num),
            ("overall", "all questions right", _pct),
        ],
    ),
    (
        "Citations (correct answers)",
        [
            ("citation_correctness", "answers citing a correct passage", _pct),
            ("citation_precision", "cited passages that are correct", _pct),
        ],
    ),
    (
        "Cost",
        [
            ("seconds_median", "seconds per question, median", _sec),
            ("seconds_p95", "seconds per question, p95", _sec),
            ("retrieve_seconds_median", "retrieval alone, median", _sec),
            ("warmup_seconds", "first answer, cold (not counted above)", _sec),
            ("ingest_seconds", "ingest", _sec),
            ("ingest_chunks", "chunks ingested", _count),
            ("chunks_per_second", "ingest speed, chunks", _rate),
            ("peak_memory_mb", "peak memory (RSS)", _mib),
        ],
    ),
]


def metric_rows(metrics: dict) -> list[tuple[str, str, str]]:
    """(section, label, formatted value) for each metric in the report, "n/a" if unmeasured."""
    rows = []
    for section, entries in SECTIONS:
        for key, label, fmt in entries:
            value = metrics.get(key)
            rows.append((section, label, "n/a" if value is None else fmt(value)))
    return rows


def _counts_line(metrics: dict) -> str:
    return (
        f"{metrics['questions']} questions: {metrics['answerable']} answerable, "
        f"{metrics['unanswerable']} unanswerable"
    )


def summary_table(result: EvalResult) -> str:
    """The metrics as a plain-text table for the terminal."""
    metrics = result.metrics
    rows = metric_rows(metrics)
    width = max(len(label) for _, label, _ in rows)
    lines = [_counts_line(metrics)]
    current = None
    for section, label, value in rows:
        if section != current:
            lines += ["", section]
            current = section
        lines.append(f"  {label:<{width}}  {value:>10}")
    return "\n".join(lines)


# --- plots -------------------------------------------------------------------


# --- files -------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """JSON-safe: infinities and NaN become None, tuples lists, paths strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _dump(value: Any, indent: int | None = None) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, indent=indent, allow_nan=False)


def _failures(result: EvalResult) -> list[QuestionRecord]:
    return [record for record in result.records if not record.correct]


def _md_cell(text: str) -> str:
    return clip(text, 200).replace("|", "\\|")


def _floor_value(floor: dict) -> str:
    return "not measured" if floor["value"] is None else f"{floor['value']:.4g}"


def _context_lines(result: EvalResult) -> list[tuple[str, str]]:
    info = result.info
    lines = [("date", result.started_at), ("run time", _sec(result.seconds))]
    for key in ("questions_file", "docs", "index", "seedqa_version"):
        if info.get(key) is not None:
            lines.append((key.replace("_", " "), str(info[key])))
    machine = info.get("machine") or {}
    if machine:
        lines.append(
            ("machine", f"{machine.get('processor')}, {machine.get('cpus')} CPUs, "
                        f"{machine.get('memory_gb')} GB, Python {machine.get('python')}")
        )
    if result.ingest and result.ingest.errors:
        lines.append(("ingest errors", "; ".join(result.ingest.errors)))
    return lines


def render_markdown(result: EvalResult, images: dict[str, str]) -> str:
    """report.md; `images` maps each plot's file name to a path relative to the report."""
    metrics = result.metrics
    out = ["# seedqa evaluation", ""]
    out += [f"- {name}: {value}" for name, value in _context_lines(result)]
    out += ["", _counts_line(metrics) + "."]
    current = None
    for section, label, value in metric_rows(metrics):
        if section != current:
            out += ["", f"## {section}", "", "| metric | value |", "| --- | ---: |"]
            current = section
        out.append(f"| {label} | {value} |")
    floors = result.info.get("floors") or []
    if floors:
        out += ["", "## Floors", "", "| floor | value | verdict |", "| --- | ---: | --- |"]
        out += [
            f"| {f['option']} {f['bound']} | {_floor_value(f)} | {f['verdict']} |" for f in floors
        ]
    out += ["", "## Plots", ""]
    for name, (title, _) in PLOTS.items():
        if name in images:
            out.append(f"![{title}]({images[name]})")
        else:
            out.append(f"{title}: not enough data.")
        out.append("")
    failures = _failures(result)
    out += ["## Wrong answers", ""]
    if not failures:
        out.append("None.")
    else:
        out += ["| id | question | answer | why |", "| --- | --- | --- | --- |"]
        for record in failures[:MAX_LISTED_FAILURES]:
            out.append(
                f"| {_md_cell(record.id)} | {_md_cell(record.question)} | "
                f"{_md_cell(record.answer)} | {_md_cell(record.why)} |"
            )
        if len(failures) > MAX_LISTED_FAILURES:
            out += ["", f"{len(failures) - MAX_LISTED_FAILURES} more in results.jsonl."]
    out += ["", "Metric definitions: docs/eval-format.md in the seedqa repository.", ""]
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.value { text-align: right; font-variant-numeric: tabular-nums; }
.fail { color: #b00020; } .pass { color: #1b5e20; }
img { max-width: 100%; display: block; margin: 0.5rem 0 1.5rem; }
"""


def render_html(result: EvalResult, images: dict[str, bytes]) -> str:
    """report.html, self-contained: `images` maps each plot's file name to its PNG bytes."""
    e = html.escape
    metrics = result.metrics
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>seedqa evaluation</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>seedqa evaluation</h1>",
        "<ul>",
        *(f"<li>{e(name)}: {e(value)}</li>" for name, value in _context_lines(result)),
        "</ul>",
        f"<p>{e(_counts_line(metrics))}.</p>",
    ]
    current = None
    for section, label, value in metric_rows(metrics):
        if section != current:
            if current is not None:
                out.append("</table>")
            out += [f"<h2>{e(section)}</h2>", "<table><tr><th>metric</th><th>value</th></tr>"]
            current = section
        out.append(f'<tr><td>{e(label)}</td><td class="value">{e(value)}</td></tr>')
    out.append("</table>")
    floors = result.info.get("floors") or []
    if floors:
        out += ["<h2>Floors</h2>", "<table><tr><th>floor</th><th>value</th><th>verdict</th></tr>"]
        for f in floors:
            verdict = "pass" if f["verdict"] == "passed" else "fail"
            out.append(
                f"<tr><td>{e(f['option'])} {e(str(f['bound']))}</td>"
                f'<td class="value">{e(_floor_value(f))}</td>'
                f'<td class="{verdict}">{e(f["verdict"])}</td></tr>'
            )
        out.append("</table>")
    out.append("<h2>Plots</h2>")
    for name, (title, _) in PLOTS.items():
        if name in images:
            data = base64.b64encode(images[name]).decode("ascii")
            out.append(f'<img alt="{e(title)}" src="data:image/png;base64,{data}">')
        else:
            out.append(f"<p>{e(title)}: not enough data.</p>")
    failures = _failures(result)
    out.append("<h2>Wrong answers</h2>")
    if not failures:
        out.append("<p>None.</p>")
    else:
        out.append("<table><tr><th>id</th><th>question</th><th>answer</th><th>why</th></tr>")
        for record in failures[:MAX_LISTED_FAILURES]:
            out.append(
                f"<tr><td>{e(record.id)}</td><td>{e(clip(record.question, 200))}</td>"
                f"<td>{e(clip(record.answer, 200))}</td><td>{e(record.why)}</td></tr>"
            )
        out.append("</table>")
        if len(failures) > MAX_LISTED_FAILURES:
            out.append(f"<p>{len(failures) - MAX_LISTED_FAILURES} more in results.jsonl.</p>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(result: EvalResult, out_dir: str | Path) -> dict[str, Path]:
    """Write results.json, results.jsonl, report.md (+ PNG plots) and report.html.

    Returns the paths written, by file name.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def write(name: str, content: str | bytes) -> None:
        path = out_dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written[name] = path

    write("results.json", _dump(result.to_dict(), indent=2) + "\n")
    write("results.jsonl", "".join(_dump(r.to_dict()) + "\n" for r in result.records))
    images = {}
    for name, (_, plot) in PLOTS.items():
        png = plot(result)
        if png is not None:
            images[name] = png
            write(name, png)
    write("report.md", render_markdown(result, {name: name for name in images}))
    write("report.html", render_html(result, images))
    return written
