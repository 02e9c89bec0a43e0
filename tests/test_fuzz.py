"""Seeded fuzzing of ingest: 540 mutated PDFs, HTML, Markdown and text files.

Mutations of the seed document and of small generated PDFs and pages (byte
flips, truncation, insertion of format keywords or random bytes, duplicated
slices) are ingested in folders beside good files, into a copy of the seed
index. Every file must end as one result (added, or failed with a message
naming it), no good file may be lost, no file may take more than a bounded
time, the process grows by under 1 GB, and once the mutants are gone the seed
question gets the same answer as before. Same seed, same files: a failure
reproduces with `pytest tests/test_fuzz.py`.
"""

from __future__ import annotations

import random
import resource
import shutil
import time
from pathlib import Path

import pytest

from ingest import ingest_paths
from qa import Assistant
from seedqa.settings import Settings
from index import Index
from tests.conftest import SEEDS
from tests.documents import HTML, MARKDOWN, minimal_pdf
from tests.faults import child_env, seedqa_cli
from tests.hostile import nested_html

pytestmark = pytest.mark.slow

SEED = 1313
MUTANTS_PER_KIND = 135  # x 4 kinds = 540 files
BATCH = 60
SEED_QUESTION = "How many drones did Russia fire at Ukraine overnight?"
MAX_SECONDS_PER_FILE = 15.0
# What fuzzing may add to this process's resident memory. Measured as growth over the
# RSS it started at: the pytest process's own high-water mark depends on the tests before.
MAX_RSS_GROWTH = 1.0e9

GOOD_FILES = {
    "good-tides.txt": "Tide Table\n\nHigh tide at Port Elsewhere is at 06:40 on Mondays.\n",
    "good-ferry.md": "# Ferry\n\nThe ferry to Skerry Point leaves at 11:15 every Sunday.\n",
    "good-kiln.html": "<html><head><title>Kiln</title></head><body><p>The brick kiln at Dunmere "
                      "fires 9,000 bricks a week.</p></body></html>",
}
KEYWORDS = {
    "pdf": [b"obj", b"endobj", b"stream", b"endstream", b"<<", b">>", b"/Filter /FlateDecode",
            b"/DecodeParms << /Predictor 12 /Columns (x) >>", b"xref", b"trailer", b"/Length 99999999",
            b"/Kids [1 0 R]", b"/Type /Page", b"%%EOF", b"\\", b"(", b")", b"[", b"R"],
    "html": [b"<div>", b"</div>", b"<!--", b"<script>", b"</p>", b"<title>", b"&#x10ffff;", b"&amp",
             b"<![CDATA[", b"<meta name=date content=", b"<", b">", b"\"", b"\x00"],
    "md": [b"**", b"_", b"[", b"](", b"<script>", b"```", b"---\n", b"# ", b"\n\n", b"<", b"\xff"],
    "txt": [b"\n", b"\n\n", b". ", b"\x1b[2J", b"\xff\xfe", b"\x00", b"date 2026-13-45\n", b"\xe9"],
}


def _pdf_seeds() -> list[bytes]:
    import io

    from pypdf import PdfReader, PdfWriter

    plain = minimal_pdf(["The orchard has 120 apple trees.", "The cider press was bought in 1998."])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    for page in writer.pages:
        page.compress_content_streams()  # a FlateDecode stream for the mutations to break
    writer.add_metadata({"/Title": "Orchard ledger"})
    packed = io.BytesIO()
    writer.write(packed)
    return [plain, packed.getvalue()]


def _seeds() -> dict[str, list[bytes]]:
    seed_text = next(SEEDS.glob("*.txt")).read_bytes()
    return {
        "pdf": _pdf_seeds(),
        "html": [HTML.encode(), nested_html(3000)],
        "md": [MARKDOWN.encode()],
        "txt": [seed_text, seed_text[:1200]],
    }


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        action = rng.choice(["flip", "truncate", "insert", "duplicate", "keyword"])
        if not data:
            data = bytearray(rng.randbytes(8))
        at = rng.randrange(len(data))
        if action == "flip":
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif action == "truncate":
            del data[at:]
        elif action == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 64))
        elif action == "duplicate":
            piece = data[at : at + rng.randint(1, 400)]
            data[at:at] = piece * rng.randint(1, 60)
        else:
            data[at:at] = rng.choice(KEYWORDS[kind]) * rng.randint(1, 30)
    return bytes(data)


def _mutants(root: Path) -> list[Path]:
    rng = random.Random(SEED)
    seeds = _seeds()
    paths = []
    for kind, originals in seeds.items():
        for number in range(MUTANTS_PER_KIND):
            data = mutate(rng.choice(originals), kind, rng)
            paths.append((f"{kind}-{number:03d}.{kind}", data))
    rng.shuffle(paths)
    written = []
    for batch in range(0, len(paths), BATCH):
        folder = root / f"batch{batch // BATCH:02d}"
        folder.mkdir(parents=True)
        for name, text in GOOD_FILES.items():
            (folder / name).write_text(text)
        for name, data in paths[batch : batch + BATCH]:
            (folder / name).write_bytes(data)
            written.append(folder / name)
    return written


def _resident_bytes() -> int:
    """This process's resident memory now (Linux: /proc/self/statm, in pages)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


def test_mutants_are_reproducible(tmp_path):
    first = [p.read_bytes() for p in _mutants(tmp_path / "a")]
    second = [p.read_bytes() for p in _mutants(tmp_path / "b")]
    assert first == second and len(first) == 4 * MUTANTS_PER_KIND >= 500
    assert len(set(first)) > 0.95 * len(first)  # mutations, not copies


def test_fuzzed_files_never_sink_an_ingest(seed_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index.data_dir, index)
    settings = Settings(data_dir=index, cache_dir=seed_index.cache_dir)
    before = Assistant(settings).answer(SEED_QUESTION)
    mutants = _mutants(tmp_path / "fuzz")
    folders = sorted({path.parent for path in mutants})

    slowest, outcomes = (0.0, ""), {"added": 0, "failed": 0}
    resident = [_resident_bytes()]
    for folder in folders:
        stamps: list[tuple[float, str]] = []

        def progress(done: int, total: int, message: str) -> None:
            resident.append(_resident_bytes())
            if ": embedding" not in message:
                stamps.append((time.perf_counter(), message))

        report = ingest_paths([folder], settings, progress=progress)
        names = [message for _, message in stamps]
        for (began, name), (ended, _) in zip(stamps, stamps[1:]):
            slowest = max(slowest, (ended - began, f"{folder.name}/{name}"))
        assert len(report.files) == len(list(folder.iterdir())), names
        for result in report.files:
            name = Path(result.source).name
            assert result.status in ("added", "failed", "unchanged"), result
            if result.status == "failed":
                assert result.message.startswith(name) and "Traceback" not in result.message, result
                assert "\n" not in result.message
            outcomes[result.status if result.status != "unchanged" else "added"] += 1
        for good in GOOD_FILES:  # no good file is lost, whatever sits beside it
            [result] = [r for r in report.files if Path(r.source).name == good]
            assert result.status == "added", result
    assert slowest[0] < MAX_SECONDS_PER_FILE, slowest
    assert max(resident) - resident[0] < MAX_RSS_GROWTH, (resident[0], max(resident))
    assert outcomes["failed"] > 20 and outcomes["added"] > 200, outcomes  # the mix is a real one

    # The CLI over one folder: a summary and per-file lines, exit 2, no traceback.
    run = seedqa_cli("ingest", str(folders[0]), env=child_env(index, seed_index.cache_dir))
    assert run.returncode == 2 and "Traceback" not in run.stderr + run.stdout, run.stderr[-2000:]

    # Mutants gone, index as it was: the seed question's answer is unchanged.
    shutil.rmtree(tmp_path / "fuzz")
    ingest_paths([SEEDS], settings, prune_all=True)
    store = Index(settings)
    assert [Path(d.source).name for d in store.documents()] == [p.name for p in SEEDS.iterdir()]
    assert store.count() == len(store.live_chunks())
    after = Assistant(settings).answer(SEED_QUESTION)
    assert after.text == before.text and "165" in after.text
    assert [(c.source, c.start, c.end) for c in after.citations] == [
        (c.source, c.start, c.end) for c in before.citations]
