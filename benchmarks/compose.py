"""Write BENCHMARKS.md from the latest benchmarks/results/*.json, with the recall@k plot.

Every figure in BENCHMARKS.md comes from a result file, with the date, the
machine and the command that produced it; rerun a benchmark, then this.

    .venv/bin/python -m benchmarks.compose
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from benchmarks.common import RESULTS, ROOT

OUT = ROOT / "BENCHMARKS.md"
PLOT = RESULTS / "recall_at_k.png"
KNOWN = {"retrieval", "answers", "latency", "coldstart", "ingest_speed", "scale", "recall_at_k",
         "answer_sets", "hostile_inputs", "reader"}


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _ms(seconds) -> str:
    return "n/a" if seconds is None else f"{1000 * seconds:.1f} ms"


def _machine(result: dict) -> str:
    m = result.get("machine") or {}
    return (f"{m.get('processor', '?')}, {m.get('cpus', '?')} cores, "
            f"{m.get('memory_gb', '?')} GB, Python {m.get('python', '?')}")


def _opening(title: str, result: dict | None, module: str) -> list[str]:
    """A section's heading and where its figures come from, or that they are not measured yet."""
    if result is None:
        return [title, "", f"Not measured yet: `.venv/bin/python -m {module}`.", ""]
    return [title, "", *_provenance(result, f"python -m {module}")]


def _provenance(result: dict, default_command: str) -> list[str]:
    command = result.get("command") or default_command
    if not command.startswith(".venv/"):
        command = ".venv/bin/" + command if command.startswith("python") else command
    return [f"Measured {result.get('date', '?')} on {_machine(result)}.", "",
            "```", command, "```", ""]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(row) + " |" for row in rows] + [""])


def recall_plot(retrieval: dict) -> Path | None:
    """recall@k against k for every system in retrieval.json; None when it has no curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=110)
    plotted = False
    for name, system in retrieval.get("systems", {}).items():
        points = sorted((int(m.group(1)), value) for key, value in system["metrics"].items()
                        if (m := re.fullmatch(r"recall@(\d+)", key)) and value is not None)
        if points:
            axes.plot([k for k, _ in points], [v for _, v in points], marker="o", label=name)
            plotted = True
    if not plotted:
        plt.close(figure)
        return None
    axes.set_xlabel("k (passages returned)")
    axes.set_ylabel("answer recall@k")
    axes.set_title(f"SQuAD 2.0, {retrieval.get('questions', '?')} answerable questions")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(PLOT)
    plt.close(figure)
    return PLOT


def retrieval_section(result: dict | None) -> list[str]:
    lines = _opening("## 1. Retrieval quality (SQuAD 2.0)", result, "benchmarks.retrieval")
    if result is None:
        return lines
    rows = []
    for name, s in result["systems"].items():
        m, q = s["metrics"], s["query_seconds"]
        rows.append([name, f"{s['chunks']:,}", _pct(m.get("recall@1")), _pct(m.get("recall@5")),
                     _pct(m.get("recall@10")), f"{m['mrr']:.3f}", _ms(q["median"]), _ms(q["p95"])])
    lines += _table(["system", "chunks", "R@1", "R@5", "R@10", "MRR", "query p50", "query p95"],
                    rows)
    lines += ["Target: recall@1 >= 88%, recall@5 >= 98%, MRR >= 0.92 "
              f"({result.get('questions', '?')} answerable questions).", ""]
    if recall_plot(result):
        lines += [f"![recall@k, seedqa and the baseline]({PLOT.relative_to(ROOT)})", ""]
        ks = sorted({int(k.split("@")[1]) for s in result["systems"].values()
                     for k in s["metrics"] if k.startswith("recall@")})
        if ks != list(range(1, max(ks) + 1)):
            lines += [f"(The result file has recall at k = {ks} only; rerun "
                      "benchmarks.retrieval for the full curve.)", ""]
    return lines


def _flat(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    items = []
    for key, value in data.items():
        if isinstance(value, dict):
            items += _flat(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float, str)) or value is None:
            items.append((f"{prefix}{key}", value))
    return items


def answers_section(result: dict | None) -> list[str]:
    lines = _opening("## 2. Answers and abstention (SQuAD 2.0)", result, "benchmarks.answers")
    if result is None:
        return lines
    summary = result.get("at_threshold") or {}
    rows = [[key, f"{value:.3f}" if isinstance(value, float) else str(value)]
            for key, value in _flat(summary)]
    if "calibration" in result:
        rows.insert(0, ["abstain threshold", str(result["calibration"].get("threshold"))])
    lines += _table(["metric (all questions, at the calibrated threshold)", "value"], rows)
    lines += ["Targets: answer accuracy >= 80% with correct citations for >= 95% of correct "
              "answers; abstain on >= 50% of unanswerable at <= 5% false abstention.", ""]
    return lines


def latency_section(latency: dict | None, coldstart: dict | None) -> list[str]:
    lines = ["## 3. Latency: warm, and cold start", ""]
    if latency is None:
        lines += ["Warm latency not measured yet: `.venv/bin/python -m benchmarks.latency`.", ""]
    else:
        lines += ["Warm, per question, on the SQuAD index (median over runs of each run's "
                  "p50 and p95):", ""]
        lines += _provenance(latency, "python -m benchmarks.latency")
        names = {"seedqa_answer": "seedqa: retrieval + default answerer (`Assistant.answer`)",
                 "seedqa_retrieve": "seedqa: retrieval alone (`Assistant.retrieve`)",
                 "baseline_similarity_search": "baseline: `similarity_search(k=5)`"}
        rows = [[names.get(n, n), _ms(s["p50"]), _ms(s["p95"])]
                for n, s in latency["seconds"].items()]
        lines += _table(["", "p50", "p95"], rows)
        target = latency["target"]
        seconds = latency["seconds"]
        if {"seedqa_answer", "baseline_similarity_search"} <= seconds.keys():
            ratio = seconds["seedqa_answer"]["p50"] / seconds["baseline_similarity_search"]["p50"]
            lines += [f"seedqa's answer takes {ratio:.2f}x the baseline's search (p50, same run). "
                      "Passages retrieved again reuse their sentence split (a cache of the last "
                      "256 passages' analyses, about 23 MB), as a chat's questions about one "
                      "document do.", ""]
        lines += [f"Target p50 <= {target['p50_seconds'] * 1000:.0f} ms, p95 <= "
                  f"{target['p95_seconds'] * 1000:.0f} ms: **{'met' if target['met'] else 'not met'}**"
                  f" ({latency['questions']} questions x {latency['runs']} runs). "
                  "Milliseconds follow the machine; the ratio to the baseline, measured in "
                  "the same run, is what carries across machines (qa/reader/README.md keeps "
                  "earlier machines' figures).", ""]
        if "chat" in latency:
            chat = latency["chat"]
            target = chat["target_mb"]  # benchmarks.latency writes it
            lines += [f"`seedqa chat` on the SQuAD index, after {chat['questions']} questions "
                      f"over its HTTP API: peak RSS **{chat['peak_rss_mb']:.0f} MB** "
                      f"(target <= {target:,} MB: "
                      f"{'met' if chat['peak_rss_mb'] <= target else 'not met'}).", ""]
    if coldstart is None:
        lines += ["Cold start not measured yet: `.venv/bin/python -m benchmarks.coldstart`.", ""]
    else:
        lines += ["Cold start: one question from a new process (wall seconds, and CPU seconds, "
                  "which other work on the machine barely moves):", ""]
        lines += _provenance(coldstart, "python -m benchmarks.coldstart")
        s, c = coldstart["seconds"], coldstart.get("cpu_seconds", {})
        rows = [["`seedqa ask QUESTION`", f"{s['seedqa_ask']:.2f} s",
                 f"{c['seedqa_ask']:.2f} s" if c else "n/a"]]
        if "seedqa_ask_first" in s:
            rows += [["`seedqa ask QUESTION`, first after a change (the snapshot deleted: "
                      "opens and checks Chroma, writes the snapshot)",
                      f"{s['seedqa_ask_first']:.2f} s", f"{c['seedqa_ask_first']:.2f} s"]]
        rows += [["baseline: import the tutorial's stack, load the model, open Chroma, "
                  "one similarity_search", f"{s['baseline']:.2f} s",
                  f"{c['baseline']:.2f} s" if c else "n/a"]]
        lines += _table(["", "wall (median)", "CPU (median)"], rows)
        load = coldstart.get("load_average_1min")
        first = coldstart["target"].get("met_first_after_a_change")
        lines += [f"seedqa / baseline: {coldstart['ratio_seedqa_vs_baseline']:.2f}x wall. "
                  f"Target <= 3 s: **{'met' if coldstart['target']['met'] else 'not met'}**"
                  + ("" if first is None else
                     f", and {'met' if first else 'not met'} by the first ask after a change")
                  + (f" (1-minute load average during the run: {load:.1f} on "
                     f"{coldstart['machine'].get('cpus')} cores)." if load is not None else "."),
                  ""]
    return lines


def ingest_section(result: dict | None) -> list[str]:
    lines = _opening("## 4. Ingest throughput", result, "benchmarks.ingest_speed")
    if result is None:
        return lines
    rates, chunks, size = (result["chunks_per_second"], result["chunks"],
                           result["chars_per_chunk"])
    rows = [
        ["seedqa ingest (load, chunk, embed, write)", f"{chunks['seedqa']:,}",
         f"{size['seedqa']:.0f}", f"{rates['seedqa']:.1f}"],
        ["raw `SentenceTransformer.encode`, same chunk texts", f"{chunks['seedqa']:,}",
         f"{size['seedqa']:.0f}", f"{rates['raw_sentence_transformers']:.1f}"],
        ["raw seedqa embedder (NumPy MiniLM), same texts", f"{chunks['seedqa']:,}",
         f"{size['seedqa']:.0f}", f"{rates['raw_seedqa_embedder']:.1f}"],
        ["baseline `Chroma.from_documents`", f"{chunks['baseline']:,}", f"{size['baseline']:.0f}",
         f"{rates['baseline']:.1f}"],
    ]
    lines += _table(["", "chunks", "chars/chunk", "chunks/s (median)"], rows)
    ratios = result["ratios"]
    lines += [f"seedqa / raw SentenceTransformer.encode: **{ratios['seedqa_vs_raw_sentence_transformers']:.0%}**"
              f" (target >= 90%: {'met' if ratios['seedqa_vs_raw_sentence_transformers'] >= 0.9 else 'not met'}); "
              f"seedqa / baseline: {ratios['seedqa_vs_baseline_chunks']:.2f}x in chunks/s, "
              f"{ratios['seedqa_vs_baseline_chars']:.2f}x in characters/s "
              f"({result['articles']} articles, {result['runs']} runs).", ""]
    if result.get("numpy_batch_size_sweep"):
        lines += ["NumPy embedder by batch size (texts/s): " + ", ".join(
            f"{b}: {r:.1f}" for b, r in result["numpy_batch_size_sweep"].items()), ""]
    if result.get("notes"):
        lines += [result["notes"], ""]
    return lines


def scale_section(result: dict | None) -> list[str]:
    lines = _opening("## 5. Scale (generated corpora)", result, "benchmarks.scale")
    if result is None:
        return lines
    rows = [[f"{s['chunks']:,}", f"{s['chunks_per_second']:.1f}", _ms(s["answer_seconds"]["p50"]),
             _ms(s["answer_seconds"]["p95"]), _ms(s["retrieve_seconds"]["p50"]),
             f"{s['first_question_seconds']:.1f} s", f"{s['peak_rss_mb']:.0f} MB",
             f"{s['ingest_peak_rss_mb']:.0f} MB", f"{s['index_mb']:.0f} MB"]
            for s in result["sizes"]]
    lines += _table(["chunks", "ingest chunks/s", "answer p50", "answer p95", "retrieve p50",
                     "first question", "query peak RSS", "ingest peak RSS", "index on disk"], rows)
    growth = result["latency_growth_p50"]
    rounds = result["settings"].get("rounds", 1)
    met = ("not measured at 100k" if growth["to_chunks"] < 90_000
           else "met" if growth["ratio"] <= 2 else "NOT met")
    lines += [f"Latencies are medians of {rounds} rounds in which the sizes took turns. Answer p50 "
              f"grows {growth['ratio']:.2f}x from {growth['from_chunks']:,} to "
              f"{growth['to_chunks']:,} chunks (target: <= 2x from 1k to 100k: {met}). The first "
              "question after opening an index builds its lexical (BM25) side.", ""]
    if result.get("notes"):
        lines += [result["notes"], ""]
    missing = result.get("sizes_asked", [])[len(result["sizes"]):]
    if missing:
        lines += ["Not measured in this run (stopped before): "
                  + ", ".join(f"{size:,}" for size in missing) + " chunks.", ""]
    largest = result["sizes"][-1]
    if largest["chunks"] < 90_000:
        minutes = 100_000 / largest["chunks_per_second"] / 60
        lines += [f"100k chunks: not measured in this run; at the ingest rate measured above "
                  f"its ingest alone would take about {minutes:.0f} minutes "
                  "(`--sizes 1000,10000,100000`).", ""]
    return lines


def reader_section(result: dict | None) -> list[str]:
    lines = _opening("## 2a. The fitted reader, on data it was not fitted on",
                     result, "benchmarks.fit_reader")
    if result is None:
        return lines
    keys = ("accuracy", "span_accuracy", "span_exact_match", "abstention", "false_abstention",
            "abstention_auc", "citation_correctness")
    rows = []
    for label, found in (("SQuAD, article folds: reader", result["held_out"]["squad"]),
                         ("SQuAD: previous answerer", result["legacy"]["squad"]),
                         ("news, odd articles: reader", result["held_out"]["news_odd"]),
                         ("news, odd articles: previous answerer", result["legacy"]["news_odd"])):
        rows.append([label, str(found.get("questions"))] + [_pct(found.get(k)) for k in keys])
    lines += _table(["answerer, questions", "n", *keys], rows)
    seconds = result.get("seconds", {})
    lines += [f"Fitting took {seconds.get('total', 0) / 60:.1f} min on this machine's 2 cores, "
              f"{seconds.get('fitting_and_cross_fitted_reading', 0) / 60:.1f} min of it fitting "
              "and cross-fitted reading; the rest is indexes, retrieval and features, which a "
              "later run finds cached (features per version of qa/reader/*.py). SQuAD figures "
              "are each article fold's, read by a model fitted on the other three folds and the "
              "training articles; news figures are on articles whose questions were never "
              "fitted on. Without abstention SQuAD "
              f"accuracy is {_pct(result['held_out'].get('squad_accuracy_no_abstention'))} "
              f"(previous: {_pct(result['legacy']['squad_no_abstention'].get('accuracy'))}). "
              "What the model is and how it is fitted: qa/reader/README.md.", ""]
    return lines


def answer_sets_section(result: dict | None) -> list[str]:
    lines = _opening("## 2b. Answers on the question sets: seedqa, its previous answerer, the "
                     "tutorial", result, "benchmarks.answer_sets")
    if result is None:
        return lines
    keys = ("accuracy", "span_accuracy", "abstention", "false_abstention",
            "citation_correctness", "recall@1")
    for name, systems in result["results"].items():
        rows = []
        for system, parts in systems.items():
            for part, metrics in parts.items():
                rows.append([system, part.replace("_", "-"), str(metrics.get("questions"))]
                            + [_pct(metrics.get(key)) for key in keys]
                            + [_ms(metrics.get("seconds_median"))])
        lines += [f"**{name}**", ""]
        lines += _table(["system", "questions", "n", *keys, "p50"], rows)
    lines += ["held-out: news questions on odd-numbered articles (the reader is fitted on the "
              "even ones), every reworded seed question. The tutorial never abstains; its "
              "answer is the first 40 words of its top chunk.", ""]
    return lines


def hostile_section(result: dict | None) -> list[str]:
    lines = _opening("## 6. Hostile inputs: time and memory against file size",
                     result, "benchmarks.hostile_inputs")
    if result is None:
        return lines
    sizes = sorted({row["mb"] for row in result["rows"]})
    rows = []
    for (name, stage) in dict.fromkeys((row["input"], row["stage"]) for row in result["rows"]):
        cells = {row["mb"]: row for row in result["rows"]
                 if row["input"] == name and row["stage"] == stage}
        outcome = next(iter(cells.values()))["outcome"]
        rows.append([name, stage, outcome] + [
            f"{cells[mb]['seconds']:.2f} s, {cells[mb]['peak_rss_mb']:.0f} MB" if mb in cells
            else "" for mb in sizes])
    lines += _table(["input", "stage", "outcome", *[f"{mb} MB" for mb in sizes]], rows)
    lines += ["Each cell is a child process: wall seconds and its own peak RSS (VmHWM). "
              "`prepare` is loading and chunking (everything before the model); `ingest` is "
              "`seedqa ingest` end to end. Target: linear time, peak RSS <= 1.5 GB.", ""]
    return lines


def others_section() -> list[str]:
    others = sorted(p for p in RESULTS.glob("*.json") if p.stem not in KNOWN)
    if not others:
        return []
    lines = ["## Other result files", ""]
    for path in others:
        data = json.loads(path.read_text())
        command = data.get("command") if isinstance(data, dict) else None
        lines.append(f"- `{path.relative_to(ROOT)}`" + (f": `{command}`" if command else ""))
    return lines + [""]


@click.command()
def main() -> None:
    """Write BENCHMARKS.md from benchmarks/results/*.json."""
    lines = [
        "# Benchmarks", "",
        "seedqa against the LangChain RAG tutorial's recipe (RecursiveCharacterTextSplitter "
        "1000/200, all-MiniLM-L6-v2 via langchain_huggingface, Chroma.from_documents, "
        "similarity_search), measured in the same run on the same machine. These machines are "
        "shared and noisy: figures are medians over runs, and ratios to the baseline of the "
        "same run are the steadier number. Written by `.venv/bin/python -m benchmarks.compose` "
        "from `benchmarks/results/*.json`; what each benchmark does: `benchmarks/README.md`.", "",
    ]
    lines += retrieval_section(_load("retrieval"))
    lines += answers_section(_load("answers"))
    lines += reader_section(_load("reader"))
    lines += answer_sets_section(_load("answer_sets"))
    lines += latency_section(_load("latency"), _load("coldstart"))
    lines += ingest_section(_load("ingest_speed"))
    lines += scale_section(_load("scale"))
    lines += hostile_section(_load("hostile_inputs"))
    lines += others_section()
    OUT.write_text("\n".join(lines).rstrip() + "\n")
    click.echo(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
