"""Ingest: formats, metadata, offsets, chunk sizes, idempotence, changes, bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ingest import Ingestor, ingest_paths
from ingest.loaders import load, parse_date, split_date_header
from index import ChunkRecord, Index, unpack_vectors
from tests.conftest import SEEDS
from tests.documents import write_formats


def _snapshot(settings):
    index = Index(settings)
    chunks = index.live_chunks()
    return index, sorted((c.id, c.text, c.start, c.end, c.version) for c in chunks)


def test_seed_date_becomes_metadata_and_leaves_the_text(settings):
    ingest_paths([SEEDS], settings)
    index = Index(settings)
    [document] = index.documents()
    assert document.date == "2026-01-27"
    text = index.document_text(document.source)
    assert text.startswith("A heavy Russian drone bombardment")
    chunks = sorted(index.live_chunks(), key=lambda c: c.start)
    assert "date 2026" not in chunks[0].text
    assert all(c.date == "2026-01-27" for c in chunks)


def test_chunk_offsets_point_into_the_document_text(settings):
    ingest_paths([SEEDS], settings)
    index = Index(settings)
    text = index.document_text(index.documents()[0].source)
    chunks = sorted(index.live_chunks(), key=lambda c: c.start)
    assert chunks
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    # Together the chunks cover every sentence of the document.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_chunks_fit_the_token_budget_and_the_model_window(settings, tmp_path):
    # One monstrous sentence and a long run of ordinary ones.
    long_sentence = " ".join(f"word{i} 12345.678 alpha-beta" for i in range(400)) + "."
    ordinary = " ".join(f"Sentence number {i} talks about harbour cranes." for i in range(300))
    (tmp_path / "long.txt").write_text(f"Long File\n\n{long_sentence}\n\n{ordinary}\n")
    report = ingest_paths([tmp_path / "long.txt"], settings)
    assert not report.errors
    index = Index(settings)
    chunks = index.live_chunks()
    model_counts = index.embedder.count_tokens([c.text for c in chunks])
    assert max(model_counts) <= index.embedder.max_tokens
    import tiktoken

    encoding = tiktoken.get_encoding(settings.tiktoken_encoding)
    assert max(len(encoding.encode_ordinary(c.text)) for c in chunks) <= settings.chunk_tokens
    # Overlap: consecutive chunks share text.
    ordered = sorted(chunks, key=lambda c: c.start)
    assert any(b.start < a.end for a, b in zip(ordered, ordered[1:]))


def test_each_format_is_read_with_its_metadata(settings, tmp_path):
    files = write_formats(tmp_path / "docs")
    report = ingest_paths([tmp_path / "docs"], settings)
    assert report.count("added") == 4, report.files
    index = Index(settings)
    by_name = {os.path.basename(d.source): d for d in index.documents()}
    assert by_name["bakery.txt"].title == "Bakery Ledger"
    assert by_name["bakery.txt"].date == "2023-11-05"
    assert by_name["harbour.md"].title == "Harbour Report"
    assert by_name["harbour.md"].date == "2025-03-14"
    md_text = index.document_text(str(files["md"].resolve()))
    assert "4,200 containers" in md_text and "**" not in md_text and "](" not in md_text
    assert by_name["lighthouse.html"].title == "Lighthouse Notes"
    assert by_name["lighthouse.html"].date == "2024-07-02"
    html_text = index.document_text(str(files["html"].resolve()))
    assert "built in 1871" in html_text
    assert "secret" not in html_text and "color: red" not in html_text
    pdf = by_name["orchard.pdf"]
    assert len(pdf.page_starts) == 2
    pages = {c.page for c in index.live_chunks() if c.source == pdf.source}
    assert pages <= {1, 2} and 1 in pages


def test_pdf_pages_are_kept_per_chunk(settings, tmp_path):
    from tests.documents import minimal_pdf

    pages = [" ".join(f"Page one fact {i} about the orchard." for i in range(60)),
             " ".join(f"Page two fact {i} about the cider press." for i in range(60))]
    (tmp_path / "two.pdf").write_bytes(minimal_pdf(pages))
    ingest_paths([tmp_path / "two.pdf"], settings)
    chunks = Index(settings).live_chunks()
    for chunk in chunks:
        expected = 1 if "Page one" in chunk.text[:40] else 2
        assert chunk.page == expected


def test_ingesting_twice_changes_nothing(settings, seed_copy):
    first = ingest_paths([seed_copy], settings)
    _, before = _snapshot(settings)
    second = ingest_paths([seed_copy], settings)
    _, after = _snapshot(settings)
    assert before == after
    assert first.chunks_added == len(before)
    assert second.chunks_added == 0 and second.count("unchanged") == 1
    assert Index(settings).count() == len(before)  # no duplicates, no leftovers


def test_changed_file_replaces_its_chunks_and_reuses_embeddings(settings, seed_copy):
    ingest_paths([seed_copy], settings)
    [path] = list(seed_copy.iterdir())
    text = path.read_text()
    path.write_text(text + "\nA brand new closing paragraph mentions the Black Sea fleet.\n")
    report = ingest_paths([seed_copy], settings)
    assert report.count("updated") == 1
    assert report.chunks_unchanged > 0  # earlier chunks were not embedded again
    index, chunks = _snapshot(settings)
    assert index.count() == len(chunks)  # old version's chunks are gone
    assert any("Black Sea fleet" in c[1] for c in chunks)


def test_stored_vectors_without_sentence_vectors_are_not_reused(settings):
    ingestor = Ingestor(settings)
    chunk = ChunkRecord("c1", "The port lost power. Repairs began.", "/d/a.txt", "A", 0, 35, "v")
    old = (np.ones(384, np.float32) / np.sqrt(384), "")  # an index from before sentence vectors
    [fresh], embeddings, kept = ingestor._embed([chunk], {chunk.text: old})
    assert kept == 0 and len(unpack_vectors(fresh.sentence_vectors)) == 2
    assert float(embeddings[0] @ old[0]) < 0.9
    [again], _, kept = ingestor._embed([chunk], {chunk.text: (embeddings[0], fresh.sentence_vectors)})
    assert kept == 1 and again.sentence_vectors == fresh.sentence_vectors


def test_prune_forgets_deleted_files(settings, seed_copy, tmp_path):
    extra = seed_copy / "extra.txt"
    extra.write_text("Extra Note\n\nThe ferry leaves at noon every day.\n")
    ingest_paths([seed_copy], settings)
    extra.unlink()
    report = ingest_paths([seed_copy], settings, prune=True)
    assert report.count("removed") == 1
    index = Index(settings)
    assert [os.path.basename(d.source) for d in index.documents()] == [
        os.path.basename(p) for p in SEEDS.iterdir()]
    assert all("ferry" not in c.text for c in index.live_chunks())
    assert index.count() == len(index.live_chunks())


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("empty.txt", b"", "failed", "empty"),
        ("blank.md", b"   \n\n  ", "failed", "empty"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "failed", "binary"),
        ("notes.xyz", b"some text", "skipped", "unsupported"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "failed", "PDF"),
    ],
)
def test_bad_files_get_a_clear_message_and_change_nothing(settings, seed_copy, name, content,
                                                          status, message):
    ingest_paths([seed_copy], settings)
    _, before = _snapshot(settings)
    bad = seed_copy.parent / name
    bad.write_bytes(content)
    report = ingest_paths([bad], settings)
    [result] = report.files
    assert result.status == status
    assert message.lower() in result.message.lower()
    assert _snapshot(settings)[1] == before


def test_legacy_encoding_is_decoded_and_said(settings, tmp_path):
    path = tmp_path / "cafe.txt"
    path.write_bytes("Café Menu\n\nThe café serves crème brûlée for €4 every day.\n".encode("cp1252"))
    report = ingest_paths([path], settings)
    [result] = report.files
    assert result.status == "added"
    assert "not UTF-8" in result.message
    assert "crème brûlée" in Index(settings).document_text(str(path.resolve()))


def test_utf16_with_bom_is_read(settings, tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("Tide Table\n\nHigh tide is at 06:40.\n".encode("utf-16"))
    assert ingest_paths([path], settings).count("added") == 1


def test_too_large_file_is_refused(tmp_path):
    from seedqa.errors import IngestError

    path = tmp_path / "big.txt"
    path.write_text("x" * 2000)
    with pytest.raises(IngestError, match="limit"):
        load(path, max_bytes=1000)


def test_missing_path_is_reported(settings, tmp_path):
    report = ingest_paths([tmp_path / "nope"], settings)
    assert report.errors and "no such file" in report.errors[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date 2026-01-27 A heavy bombardment", ("2026-01-27", "A heavy bombardment")),
        ("Date: 5 March 2024\nBody text", ("2024-03-05", "Body text")),
        ("Published: March 5, 2024\nBody", ("2024-03-05", "Body")),
        ("No date here", (None, "No date here")),
        ("date 2026-13-45 bad month", (None, "date 2026-13-45 bad month")),
    ],
)
def test_date_header_parsing(text, expected):
    assert split_date_header(text) == expected


def test_parse_date_spellings():
    assert parse_date("2024-07-02T10:00:00Z") == "2024-07-02"
    assert parse_date("Feb 1, 2026") == "2026-02-01"
    assert parse_date("someday") is None
