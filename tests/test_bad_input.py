"""Bad input, each case through Python, the CLI and the chat UI's callbacks.

Files: every failure is a clear message naming the file and what to do, a
non-zero exit from `seedqa ingest`, a readable notice in the UI, and an index
exactly as it was. Files that are odd but readable are read correctly.
Questions: a clear `InvalidQuestionError` (CLI: one line, exit 1; UI: an
error bubble), or an answer/abstention that does not crash and echoes no markup.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest import ingest_paths
from qa import Assistant, InvalidQuestionError
from cli import main
from seedqa.errors import IngestError
from seedqa.settings import Settings
from tests.documents import minimal_pdf
from tests.faults import PYTHON, ROOT, snapshot
from ui.app import ChatUI

SEED_QUESTION = "How many drones did Russia fire at Ukraine overnight?"


def _visible(markup: str) -> str:
    """What a browser shows for `markup`: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))
GOOD = "Tide Table\n\nHigh tide at Port Elsewhere is at 06:40 on Mondays.\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside.txt", GOOD)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf(["A secret orchard of 40 trees."]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _write(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return path
    return build


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.txt"
    os.mkfifo(path)
    return path


def _link_loop(folder: Path) -> Path:
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    return folder / "loop-a.txt"


def _dangling(folder: Path) -> Path:
    (folder / "gone.txt").symlink_to(folder / "never-existed.txt")
    return folder / "gone.txt"


def _huge(folder: Path) -> Path:
    path = folder / "huge.txt"
    line = b"The archive holds many ordinary sentences about nothing in particular.\n"
    with path.open("wb") as file:
        for _ in range(100_000_000 // (len(line) * 1000) + 1):
            file.write(line * 1000)
    return path


def _truncated_pdf(folder: Path) -> Path:
    data = minimal_pdf(["The orchard has 120 apple trees."])
    return _write("truncated.pdf", data[: len(data) // 2])(folder)


# (id, builder, expected message fragments: the file's name is always checked too)
FAILING_FILES = [
    ("empty file", _write("empty.txt", b""), ["empty"]),
    ("only white space", _write("blank.md", b"  \n\t\n   "), ["empty"]),
    ("PNG renamed .txt", _write("photo.txt", PNG), ["binary"]),
    ("zip renamed .txt", _write("archive.txt", _zip_bytes()), ["binary"]),
    ("gzip renamed .md", _write("notes.md", gzip.compress(GOOD.encode())), ["binary"]),
    ("only control characters", _write("controls.txt", b"\x01\x02\x03\x07\x1b\x7f" * 50), ["no text"]),
    ("100 MB text file", _huge, ["limit", "100.0 MB", "SEEDQA_MAX_FILE_MB"]),
    ("PDF without a text layer", _write("scan.pdf", minimal_pdf(["   "])), ["no text layer", "OCR"]),
    ("corrupt PDF", _write("corrupt.pdf", b"%PDF-1.4\n" + PNG), ["not a readable PDF"]),
    ("truncated PDF", _truncated_pdf, ["PDF"]),
    ("encrypted PDF", _write("locked.pdf", _encrypted_pdf()), ["encrypted", "unlocked copy"]),
    ("HTML with only a script", _write("script.html", "<html><script>alert(1)</script></html>"), ["no text"]),
    ("Markdown with only front matter", _write("front.md", "---\ntitle: x\n---\n"), ["no text"]),
    ("named pipe called .txt", _fifo, ["not a regular file"]),
    ("symlink loop", _link_loop, ["symbolic links"]),
    ("dangling symlink", _dangling, ["No such file"]),
]


@pytest.fixture(scope="module")
def index(seed_index, tmp_path_factory) -> Settings:
    """A private copy of the seed index; failing cases must leave it exactly as it is."""
    target = tmp_path_factory.mktemp("bad-input") / "index"
    shutil.copytree(seed_index.data_dir, target)
    return Settings(data_dir=target, cache_dir=seed_index.cache_dir)


@pytest.fixture(scope="module")
def chat(index) -> ChatUI:
    return ChatUI(Assistant(index), index)


@pytest.mark.parametrize(("case", "build", "fragments"), FAILING_FILES, ids=[c[0] for c in FAILING_FILES])
def test_unreadable_file_gives_a_clear_message_everywhere_and_changes_nothing(
        case, build, fragments, index, chat, tmp_path):
    path = build(tmp_path)
    before = snapshot(index)

    # Python: a failed result with the message, and the documented exception on request.
    report = ingest_paths([path], index)
    [result] = report.files
    assert result.status == "failed", (case, result)
    for fragment in [path.name, *fragments]:
        assert fragment.lower() in result.message.lower(), (case, result.message)
    with pytest.raises(IngestError, match=path.name.replace(".", r"\.")):
        report.raise_for_errors()

    # CLI: one line about the file, a summary, exit code 1, no traceback.
    cli = CliRunner().invoke(main, ["--data-dir", str(index.data_dir), "ingest", str(path)])
    assert cli.exit_code == 1, (case, cli.output)
    lines = [line for line in cli.output.splitlines() if line.startswith("failed:")]
    assert len(lines) == 1 and fragments[0].lower() in lines[0].lower(), cli.output
    assert "Traceback" not in cli.output

    # UI: a readable notice, the app carries on (a hidden folder link cannot be uploaded).
    if path.suffix in (".txt", ".md", ".html", ".pdf") and path.is_file() and not path.is_symlink():
        with pytest.warns(UserWarning, match="not added"):
            status = chat.upload([str(path)])[0]
        assert "seedqa-notice" in status and fragments[0].lower() in _visible(status).lower()
        assert not chat.uploads.files()  # the refused copy is not kept

    assert snapshot(index) == before, case


def test_a_file_that_was_fine_and_is_now_broken_keeps_its_last_good_version(index, tmp_path):
    path = tmp_path / "tides.txt"
    path.write_text(GOOD)
    assert ingest_paths([path], index).count("added") == 1
    before = snapshot(index)
    path.write_bytes(PNG)
    assert ingest_paths([path], index).errors
    assert snapshot(index) == before
    answer = Assistant(index).answer("When is high tide at Port Elsewhere on Mondays?")
    assert "06:40" in answer.text


def test_a_zip_is_refused_by_type(index, chat, tmp_path):
    path = _write("bundle.zip", _zip_bytes())(tmp_path)
    before = snapshot(index)
    [result] = ingest_paths([path], index).files
    assert result.status == "skipped" and "unsupported file type '.zip'" in result.message
    cli = CliRunner().invoke(main, ["--data-dir", str(index.data_dir), "ingest", str(path)])
    assert cli.exit_code == 1 and "unsupported file type '.zip'" in cli.output
    with pytest.warns(UserWarning, match="not added"):
        status = chat.upload([str(path)])[0]
    assert "not '.zip'" in _visible(status)
    assert snapshot(index) == before


@pytest.mark.parametrize("target", ["/dev/null", "/dev/zero"])
def test_a_device_is_not_read(index, target):
    [result] = ingest_paths([Path(target)], index).files
    assert result.status == "failed" and "not a regular file" in result.message


def test_a_missing_path_is_named(index, tmp_path):
    cli = CliRunner().invoke(main, ["--data-dir", str(index.data_dir), "ingest", str(tmp_path / "nope")])
    assert cli.exit_code == 1 and f"{tmp_path / 'nope'}: no such file or folder" in cli.output


def test_an_unreadable_file_is_reported_not_crashed_on(tmp_path):
    """chmod 000. As root (who reads anything), the CLI runs as `nobody` via setpriv."""
    base = Path(tempfile.mkdtemp(prefix="seedqa-perm-"))
    try:
        os.chmod(base, 0o777)
        secret = base / "secret.txt"
        secret.write_text(GOOD)
        os.chmod(secret, 0)
        command = [PYTHON, "-m", "cli", "--data-dir", str(base / "index"), "ingest", str(secret)]
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv: cannot drop the right to read")
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = dict(os.environ, PYTHONPATH=str(ROOT), SEEDQA_CACHE_DIR=str(base / "cache"), HOME=str(base))
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=base, timeout=300)
        assert result.returncode == 1, result.stderr
        assert "secret.txt: Permission denied" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- odd but readable files ---------------------------------------------------------------


READABLE_FILES = [
    ("UTF-16 with BOM", "tide16.txt", codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), None),
    ("UTF-16 without BOM", "tide16n.txt", GOOD.encode("utf-16-le"), "UTF-16"),
    ("UTF-8 with BOM", "tide8.txt", codecs.BOM_UTF8 + GOOD.encode(), None),
    ("invalid UTF-8 (Windows-1252)", "tide1252.txt", (GOOD + "Café crème.\n").encode("cp1252"), "not UTF-8"),
    ("NUL bytes after the first 8 kB", "nul.txt", (GOOD + " " * 9000 + "\x00tail text.\n").encode(), None),
    ("HTML with scripts and handlers", "page.html",
     "<html><head><script>var stolen = document.cookie;</script><style>p{}</style></head><body>"
     "<p onclick=\"alert('x')\">High tide at Port Elsewhere is at 06:40 on Mondays.</p>"
     "<iframe src=\"http://example.com\">frame text</iframe><noscript>enable js</noscript></body></html>",
     None),
    ("Markdown with inline script", "notes.md",
     "# Tide Table\n\nHigh tide at Port Elsewhere is at 06:40 on Mondays.\n\n<script>var stolen = 1;</script>\n",
     None),
    ("one 30 kB word", "word.txt", ("Word File\n\n" + "x9" * 15_000 + "\n").encode(), None),
    ("odd characters in the name", "we ird;$(rm -rf ~) ü 名前\t.txt", GOOD, None),
    ("a newline in the name", "two\nlines.txt", GOOD, None),
]


@pytest.mark.parametrize(("case", "name", "data", "note"), READABLE_FILES, ids=[c[0] for c in READABLE_FILES])
def test_odd_but_readable_files_are_read_correctly(case, name, data, note, settings, tmp_path):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    [result] = ingest_paths([path], settings).files
    assert result.status == "added", (case, result)
    if note:
        assert note in result.message
    from index import Index

    text = Index(settings).document_text(str(path.resolve()))
    assert "\ufeff" not in text and "\x00" not in text
    assert "stolen" not in text and "alert" not in text and "enable js" not in text
    if "06:40" in GOOD and case not in ("one 30 kB word",):
        assert "06:40" in text
        assert "06:40" in Assistant(settings).answer("When is high tide at Port Elsewhere on Mondays?").text


def test_a_folder_with_a_symlink_loop_is_walked_once(settings, tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "tides.txt").write_text(GOOD)
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)  # sub/up -> docs: a cycle
    (folder / "self.txt").symlink_to(folder / "self.txt")  # a link to itself
    (folder / "dir.txt").mkdir()  # a folder named like a file
    report = ingest_paths([folder], settings)
    assert report.count("added") == 1
    [failed] = report.errors
    assert failed.source.endswith("self.txt") and "symbolic links" in failed.message


def test_uploads_with_odd_or_hostile_names_land_in_the_uploads_folder(settings, tmp_path):
    chat = ChatUI(Assistant(settings), settings)
    names = ["..\\..\\etc\\passwd.txt", ".bashrc.md", "-rf --no-preserve-root.txt", "x" * 240 + ".txt",
             "名前 ファイル.md", "semi;colon|pipe&amp.txt"]
    paths = []
    for number, name in enumerate(names):
        folder = tmp_path / f"incoming{number}"
        folder.mkdir()
        path = folder / name
        path.write_text(f"Upload {number}\n\nThe uploaded note number {number} mentions harbour {number}.\n")
        paths.append(str(path))
    status = chat.upload(paths)[0]
    assert _visible(status).count(": added") == len(names), status
    stored = chat.uploads.files()
    assert len(stored) == len(names)
    for path in stored:  # stored under names we generated; the given names are only shown
        assert path.parent == chat.upload_dir
        assert re.fullmatch(r"[0-9a-f]{16}\.(txt|md)", path.name), path.name
        shown = chat.uploads.name(path)
        assert not shown.startswith((".", "-")) and len(shown) <= 84
        assert all(ch.isalnum() or ch in "._-" for ch in shown), shown
    assert not (Path("/etc") / "passwd.txt").exists()


# --- questions -----------------------------------------------------------------------------

REFUSED_QUESTIONS = [
    ("empty", "", "empty"),
    ("white space", " \n\t  ", "empty"),
    ("100 kB long", "drones " * 15_000, "SEEDQA_MAX_QUESTION_CHARS"),
    ("only punctuation", "?!...;;--", "no words"),
    ("only emoji", "🚀🔥❓", "no words"),
    ("only control characters", "\x00\x01\x07\x08", "no words"),
]


@pytest.mark.parametrize(("case", "question", "fragment"), REFUSED_QUESTIONS, ids=[c[0] for c in REFUSED_QUESTIONS])
def test_a_question_that_cannot_be_asked_is_refused_clearly_everywhere(case, question, fragment, index, chat):
    with pytest.raises(InvalidQuestionError, match=fragment):
        Assistant(index).answer(question)
    cli = CliRunner().invoke(main, ["--data-dir", str(index.data_dir), "ask", question])
    assert cli.exit_code == 1
    [line] = cli.output.strip().splitlines()
    assert line.startswith("Error: ") and fragment in line
    if question.strip():  # the UI ignores an empty box without a message
        messages = list(chat.ask(question, None))[-1][0]
        assert "seedqa-error" in messages[-1]["content"] and fragment in _visible(messages[-1]["content"])


def test_a_question_that_is_not_a_string_is_refused(index):
    for bad in (None, 42, b"bytes"):
        with pytest.raises(InvalidQuestionError):
            Assistant(index).answer(bad)


ANSWERED_QUESTIONS = [
    ("Chinese", "乌克兰上空有多少架无人机？"),
    ("Russian", "Сколько дронов Россия запустила по Украине?"),
    ("Arabic, right to left", "كم عدد الطائرات المسيرة التي أطلقتها روسيا؟"),
    ("control characters inside", "How many\x00 drones\x1b[31m did Russia\x07 fire at Ukraine overnight?"),
    ("markup", "<script>alert(1)</script><img src=x onerror=alert(2)> how many drones?"),
    ("SQL-like", "'; DROP TABLE seedqa_chunks; --"),
    ("only stop words", "the of and a to"),
    ("exactly the length limit", ("How many drones did Russia fire? " * 100)[:2000]),
]


@pytest.mark.parametrize(("case", "question"), ANSWERED_QUESTIONS, ids=[c[0] for c in ANSWERED_QUESTIONS])
def test_an_unusual_question_is_answered_or_abstains_without_harm(case, question, index, chat):
    before = snapshot(index)
    answer = Assistant(index).answer(question)
    assert answer.text and (answer.abstained or "[1]" in answer.text)
    cli = CliRunner().invoke(main, ["--data-dir", str(index.data_dir), "ask", "--json", question])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["text"] == answer.text
    messages = list(chat.ask(question, None))[-1][0]
    shown = messages[0]["content"] + messages[-1]["content"]
    assert "<script" not in shown and "<img" not in shown  # echoed escaped, never as markup
    assert snapshot(index) == before
    if case == "control characters inside":
        assert "165" in answer.text
