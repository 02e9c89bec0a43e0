"""Hostile inputs, continued: work bounded by the input (issue 13, item 4).

Loading, chunking and tokenising stay linear in the file; text that is not prose
is refused clearly; big files report progress. See tests/test_hostile.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingest import ingest_paths
from qa import Assistant
from index import Index
from tests.faults import PYTHON, child_env
from tests.hostile import base64_blob, many_lines, nested_html, one_line

GOOD = "Tide Table\n\nHigh tide at Port Elsewhere is at 06:40 on Mondays.\n"
TIDE_QUESTION = "When is high tide at Port Elsewhere on Mondays?"
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mRed\x9b2J\u202e"


def _cache_env(data: Path) -> dict[str, str]:
    return child_env(data, Path(os.environ["SEEDQA_CACHE_DIR"]))


# --- 4. work bounded by the input ------------------------------------------------------------------


def _peak_rss_child(path: Path, data: Path) -> tuple[float, int, str]:
    """`seedqa ingest path` in a child process: its seconds, own peak RSS (bytes) and output."""
    from benchmarks.hostile_inputs import _run_child

    env = dict(_cache_env(data))
    run = _run_child([PYTHON, "-m", "benchmarks.hostile_inputs", "--child-ingest", str(path)], env)
    return run["seconds"], int(run["peak_rss_mb"] * 1e6), run["output"]


@pytest.mark.slow
def test_a_5_mb_line_without_spaces_is_refused_fast_and_small(tmp_path):
    path = tmp_path / "line.txt"
    path.write_bytes(one_line(5_000_000))
    seconds, peak, out = _peak_rss_child(path, tmp_path / "data")
    assert "not prose" in out and "Traceback" not in out, out
    assert seconds < 60 and peak < 1.5e9, (seconds, peak)


@pytest.mark.parametrize(("name", "build", "size"), [
    ("base64.txt", base64_blob, 2_000_000), ("line.md", one_line, 2_000_000)])
def test_text_that_is_not_prose_is_refused_clearly(name, build, size, settings, tmp_path):
    path = tmp_path / name
    path.write_bytes(build(size))
    began = time.perf_counter()
    [result] = ingest_paths([path], settings).files
    assert result.status == "failed" and "not prose" in result.message and "base64" in result.message
    assert time.perf_counter() - began < 20


def test_chunking_and_tokenising_are_linear(settings):
    from ingest.pipeline import Ingestor

    chunker = Ingestor(settings).chunker
    timings = {}
    for kind, build in (("one line", one_line), ("many lines", many_lines)):
        for size in (250_000, 1_000_000):
            text = build(size).decode()
            began = time.perf_counter()
            spans = chunker.split(text)
            timings[kind, size] = time.perf_counter() - began
            assert spans and all(0 <= b < e <= len(text) for b, e in spans)
        # 4x the text takes about 4x the time, far from the 16x of a quadratic step
        assert timings[kind, 1_000_000] < 8 * timings[kind, 250_000] + 0.5, timings
    assert timings["many lines", 1_000_000] < 30, timings


@pytest.mark.parametrize("levels", [20_000, 100_000])
def test_deeply_nested_html_loads_fast(levels, tmp_path):
    from ingest.loaders import load

    path = tmp_path / "deep.html"
    path.write_bytes(nested_html(levels * 16))
    began = time.perf_counter()
    document = load(path, 10**8)
    assert time.perf_counter() - began < 10 + levels / 20_000
    assert document.text.count("deep") >= levels - 2  # the two levels the <html><body> took


def test_a_big_file_reports_progress_while_it_embeds(settings, tmp_path, monkeypatch):
    import ingest.pipeline

    monkeypatch.setattr(ingest.pipeline, "_EMBED_BATCH", 16)  # a big file's batches, on a small one
    path = tmp_path / "long.txt"
    sentences = [f"Survey line {n} counted {n * 7 % 1000} ferries in district {n % 40}." for n in range(400)]
    path.write_text("Long Survey\n\n" + "\n\n".join(" ".join(sentences[i:i + 8])
                                                    for i in range(0, len(sentences), 8)))
    seen = []
    report = ingest_paths([path], settings, progress=lambda done, total, message: seen.append(message))
    assert report.count("added") == 1
    assert any(message.endswith("long.txt: embedding 16 of 50 chunks") for message in seen), seen


def test_text_cut_into_too_many_fragments_is_refused_before_chunking(settings, tmp_path):
    from ingest.pipeline import MAX_CHUNKS

    path = tmp_path / "fragments.html"
    path.write_bytes(nested_html(16 * (2 * MAX_CHUNKS + 1000)))  # a paragraph per level
    began = time.perf_counter()
    [result] = ingest_paths([path], settings).files
    assert result.status == "failed" and f"paragraphs, more than the {MAX_CHUNKS:,} passages" in result.message
    assert time.perf_counter() - began < 60
    assert Index(settings).documents() == []


def test_a_chunk_of_many_short_lines_keeps_its_passage_vector_only(settings, tmp_path):
    from ingest.pipeline import MAX_SENTENCE_VECTORS

    lines = [f"Shelf {n}: {n * 3} jars" for n in range(MAX_SENTENCE_VECTORS + 12)]  # one chunk
    path = tmp_path / "pantry.txt"
    path.write_text("Pantry List\n\n" + "\n".join(lines) + "\n")
    assert ingest_paths([path], settings).count("added") == 1
    [chunk] = Index(settings).live_chunks()
    assert chunk.sentence_vectors == ""  # none stored, as in an index made before them
    answer = Assistant(settings).answer("How many jars are on shelf 7?")
    assert not answer.abstained and answer.span == "21"
