"""Hostile files and paths (issue 13): each case through the real components.

Real PDFs (the crash fixtures pypdf fails on, the XSS PDF), a real ingest into
Chroma in a temp dir, `seedqa` in child processes for exit codes and what a
terminal sees, real symlinks and folders for link and prune scoping, and two
chat servers in child processes for Gradio's upload cache.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from ingest import ingest_paths
from ingest.walk import LINK_NOT_FOLLOWED
from qa import Assistant
from index import Index
from seedqa.terminal import safe
from tests.documents import minimal_pdf
from tests.faults import PYTHON, child_env, free_port, seedqa_cli, wait_for_port
from tests.hostile import CRASH_PDFS, titled_pdf, xss_pdf
from ui.app import ChatUI
from ui.plain import toast_text

GOOD = "Tide Table\n\nHigh tide at Port Elsewhere is at 06:40 on Mondays.\n"
TIDE_QUESTION = "When is high tide at Port Elsewhere on Mondays?"
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mRed\x9b2J\u202e"


def _bad_folder(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    bad = [folder / path.name for path in CRASH_PDFS]
    for source, target in zip(CRASH_PDFS, bad):
        shutil.copyfile(source, target)
    (folder / "xss.pdf").write_bytes(xss_pdf())
    return [*bad, folder / "xss.pdf"]


def _cache_env(data: Path) -> dict[str, str]:
    return child_env(data, Path(os.environ["SEEDQA_CACHE_DIR"]))


def test_the_fixtures_are_what_they_claim():
    assert [p.name for p in CRASH_PDFS] == ["crash_LimitReachedError.pdf", "crash_NotImplementedError.pdf",
                                            "crash_TypeError.pdf"]
    from pypdf import PdfReader
    import io

    for path in CRASH_PDFS:  # pypdf itself still raises on them: the loader must catch it
        with pytest.raises(Exception) as raised:
            reader = PdfReader(io.BytesIO(path.read_bytes()))
            [page.extract_text() for page in reader.pages]
        assert type(raised.value).__name__ in path.name


# --- 1. one bad file never sinks a batch ---------------------------------------------------


def test_parser_crashes_are_per_file_failures_and_the_rest_is_ingested(settings, tmp_path):
    folder = tmp_path / "batch"
    bad = _bad_folder(folder)
    (folder / "tides.txt").write_text(GOOD)
    (folder / "orchard.pdf").write_bytes(minimal_pdf(["The orchard has 120 apple trees."]))
    report = ingest_paths([folder], settings)
    assert report.count("added") == 2, report.files
    failed = {Path(r.source).name: r.message for r in report.errors}
    assert set(failed) == {p.name for p in bad}
    for name, message in failed.items():
        assert message.startswith(name) and "PDF" in message, message
    assert "could not read" in failed["crash_TypeError.pdf"]
    assert "06:40" in Assistant(settings).answer(TIDE_QUESTION).text


def test_cli_exit_codes_say_all_some_or_nothing(tmp_path):
    data = tmp_path / "data"
    env = _cache_env(data)
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    (good / "tides.txt").write_text(GOOD)
    _bad_folder(bad)

    nothing = seedqa_cli("ingest", str(bad), env=env)
    some = seedqa_cli("ingest", str(bad), str(good), env=env)
    everything = seedqa_cli("ingest", str(good), env=env)
    assert (nothing.returncode, some.returncode, everything.returncode) == (1, 2, 0), (
        nothing.stderr, some.stderr, everything.stderr)
    for run in (nothing, some):
        assert "Traceback" not in run.stderr + run.stdout
        failed = [line for line in run.stderr.splitlines() if line.startswith("failed:")]
        assert len(failed) == 4, run.stderr
    assert "1 added" in some.stdout and "4 failed" in some.stdout
    assert "1 unchanged" in everything.stdout
    helped = seedqa_cli("ingest", "--help", env=env)
    assert "Exit status" in helped.stdout and "2  some files could not be read" in helped.stdout


def test_the_chat_reports_each_upload_and_keeps_only_what_it_indexed(settings, tmp_path):
    chat = ChatUI(Assistant(settings), settings)
    incoming = tmp_path / "incoming"
    bad = _bad_folder(incoming)
    (incoming / "tides.txt").write_text(GOOD)
    with pytest.warns(UserWarning) as toasts:
        status = chat.upload([str(p) for p in [*bad, incoming / "tides.txt"]])[0]
    notices = re.findall(r'<div class="seedqa-notice seedqa-notice-(\w+)">(.*?)</div>', status)
    assert [kind for kind, _ in notices].count("error") == 4 and [k for k, _ in notices].count("info") == 1
    shown = html.unescape(re.sub(r"<[^>]+>", " ", status))
    assert "tides.txt: added" in shown and shown.count("not a readable PDF") == 4
    assert "<svg" not in status and "<a " not in status  # the parser's markup is text, escaped
    [kept] = chat.uploads.files()
    assert chat.uploads.name(kept) == "tides.txt"
    [toast] = [str(w.message) for w in toasts if "not added" in str(w.message)]
    assert "<" not in toast and "javascript" not in toast and "xss.pdf" in toast
    assert "06:40" in chat.assistant.answer(TIDE_QUESTION).text


# --- 2. what reaches the browser ---------------------------------------------------------------


def test_toasts_carry_plain_text_only(tmp_path):
    from ingest.loaders import load

    path = tmp_path / "xss.pdf"
    path.write_bytes(xss_pdf())
    with pytest.raises(Exception) as raised:
        load(path, 10**7)
    message = str(raised.value)
    assert "<svg" in message and "javascript:" in message  # what pypdf puts in its error
    shown = toast_text(message)
    assert "<" not in shown and ">" not in shown and "&lt;svg" in shown
    assert "\x1b" not in toast_text("a\x1b[2Jb") and "/srv/data" not in toast_text(
        "Cannot write the index at /srv/data/index", hide=(Path("/srv/data"),))


def test_clients_see_file_names_not_server_paths(settings, tmp_path):
    chat = ChatUI(Assistant(settings), settings)
    notes = tmp_path / "server" / "secret-folder" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text(GOOD)
    chat.assistant.add_documents([notes])
    upload = tmp_path / "up" / "ferry.md"
    upload.parent.mkdir()
    upload.write_text("# Ferry\n\nThe ferry to Skerry Point leaves at noon.\n")
    chat.upload([str(upload)])
    documents, menu, _ = chat.refresh()
    values = [value for _, value in menu["choices"]]
    assert len(values) == 2 and all("/" not in value for value in values)
    assert "secret-folder" not in documents and str(settings.data_dir) not in documents
    turns = list(chat.ask(TIDE_QUESTION, None))
    session = turns[-1][1]
    panel = chat.citation_html(session, 0, 1)
    assert "notes.txt" in html.unescape(panel)
    for shown in (panel, turns[-1][0][-1]["content"]):
        assert "secret-folder" not in html.unescape(shown) and str(tmp_path) not in html.unescape(shown)
    removed = chat.remove(values[0])[0]  # the menu's key removes the document it names
    assert "Removed" in removed and len(chat.assistant.documents()) == 1


def _start_chat(data: Path, port: int, **extra: str) -> subprocess.Popen:
    env = _cache_env(data)
    env.update(extra)
    env.pop("GRADIO_TEMP_DIR", None)  # what a user has: Gradio's default is one per machine
    return subprocess.Popen([PYTHON, "-m", "cli", "chat", "--port", str(port)], env=env,
                            cwd=data.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_chat_servers_never_share_uploads(tmp_path):
    locked_data, open_data = tmp_path / "locked" / "data", tmp_path / "open" / "data"
    for data in (locked_data, open_data):
        data.mkdir(parents=True)
    locked_port, open_port = free_port(), free_port()
    locked = _start_chat(locked_data, locked_port, SEEDQA_AUTH="alice:wonder land")
    public = _start_chat(open_data, open_port)
    try:
        wait_for_port(locked_port, locked, timeout=120)
        wait_for_port(open_port, public, timeout=120)
        locked_url, open_url = f"http://127.0.0.1:{locked_port}/", f"http://127.0.0.1:{open_port}/"
        with httpx.Client(timeout=30) as browser:
            assert browser.post(locked_url + "login",
                                data={"username": "alice", "password": "wonder land"}).status_code == 200
            uploaded = browser.post(locked_url + "gradio_api/upload",
                                    files={"files": ("private.txt", b"The vault code is 5521.")})
            assert uploaded.status_code == 200, uploaded.text
            [stored] = uploaded.json()
            assert browser.get(locked_url + f"gradio_api/file={stored}").status_code == 200
        assert Path(stored).resolve().is_relative_to(locked_data.resolve() / "gradio-cache")
        leaked = httpx.get(open_url + f"gradio_api/file={stored}", timeout=30)
        assert leaked.status_code in (403, 404), leaked.status_code
        assert b"5521" not in leaked.content
    finally:
        for process in (locked, public):
            process.terminate()
            process.wait(timeout=30)


# --- 3. links, prune scope, the terminal ----------------------------------------------------------


def test_links_out_of_a_folder_are_not_followed_unless_asked(settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nThe outside vault code is 8812.\n")
    (outside / "more").mkdir()
    (outside / "more" / "deep.txt").write_text("Deep\n\nThe deep cellar holds 40 barrels.\n")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "tides.txt").write_text(GOOD)
    (folder / "inside.txt").symlink_to(folder / "tides.txt")  # inside: read once, as its target
    (folder / "secret.txt").symlink_to(outside / "secret.txt")
    (folder / "more").symlink_to(outside / "more", target_is_directory=True)
    (folder / "hostname.txt").symlink_to("/etc/hostname")

    report = ingest_paths([folder], settings)
    assert [Path(d.source).name for d in Index(settings).documents()] == ["tides.txt"]
    passed = sorted(Path(r.source).name for r in report.files if r.message == LINK_NOT_FOLLOWED)
    assert passed == ["hostname.txt", "more", "secret.txt"]
    assert "3 links out of the folders not followed" in report.summary()

    followed = ingest_paths([folder], settings, follow_links=True)
    assert followed.count("added") == 3, followed.files
    sources = {d.source for d in Index(settings).documents()}
    real = os.path.realpath(folder)
    assert {f"{real}/secret.txt", f"{real}/more/deep.txt", f"{real}/hostname.txt"} <= sources

    (folder / "secret.txt").unlink()  # the link goes; its target stays
    pruned = ingest_paths([folder], settings, prune=True, follow_links=True)
    assert {Path(r.source).name for r in pruned.files if r.status == "removed"} == {"secret.txt"}
    assert (outside / "secret.txt").exists()
    unfollowed = ingest_paths([folder], settings, prune=True)  # links no longer followed: forgotten
    assert {Path(r.source).name for r in unfollowed.files if r.status == "removed"} == {
        "deep.txt", "hostname.txt"}
    assert [Path(d.source).name for d in Index(settings).documents()] == ["tides.txt"]


def test_a_followed_link_loop_is_walked_once(settings, tmp_path):
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "note.txt").write_text(GOOD)
    (outside / "inner" / "up").symlink_to(outside, target_is_directory=True)  # a cycle outside
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "out").symlink_to(outside, target_is_directory=True)
    report = ingest_paths([folder], settings, follow_links=True)
    assert report.count("added") == 1 and not report.errors, report.files


def test_prune_only_prunes_under_the_paths_given(settings, tmp_path):
    first, second, gone = tmp_path / "first", tmp_path / "second", tmp_path / "mounted"
    for number, folder in enumerate((first, second, gone)):
        folder.mkdir()
        (folder / f"note{number}.txt").write_text(f"Note {number}\n\nThe crane number {number} lifts 80 tonnes.\n")
    (first / "extra.txt").write_text("Extra\n\nThe extra ferry leaves at noon.\n")
    ingest_paths([first, second, gone], settings)
    (first / "extra.txt").unlink()
    (second / "note1.txt").unlink()
    shutil.rmtree(gone)  # like an unmounted disk

    scoped = ingest_paths([first], settings, prune=True)
    assert [Path(r.source).name for r in scoped.files if r.status == "removed"] == ["extra.txt"]
    names = sorted(Path(d.source).name for d in Index(settings).documents())
    assert names == ["note0.txt", "note1.txt", "note2.txt"]
    absent = ingest_paths([gone], settings, prune=True)  # a root that is not there prunes nothing
    assert not [r for r in absent.files if r.status == "removed"] and "nothing under it was pruned" in absent.summary()
    everything = ingest_paths([first], settings, prune_all=True)
    assert sorted(Path(r.source).name for r in everything.files if r.status == "removed") == [
        "note1.txt", "note2.txt"]


def test_terminal_control_characters_never_reach_the_terminal(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(titled_pdf(f"Quarterly{ESCAPES} report",
                                                   "The quarry siren sounds at 14:30 on Wednesdays."))
    (folder / "fake\nfailed: everything.txt").write_text(GOOD)
    (folder / "bad\x1b[2J.txt").write_bytes(b"")
    env = _cache_env(tmp_path / "data")
    ingested = seedqa_cli("ingest", str(folder), env=env)
    listed = seedqa_cli("documents", env=env)
    asked = seedqa_cli("ask", "When does the quarry siren sound?", env=env)
    for run in (ingested, listed, asked):
        out = run.stdout + run.stderr
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", out), repr(out)
    assert ingested.returncode == 2, ingested.stderr
    assert [line for line in ingested.stderr.splitlines() if line.startswith("failed:")] == [
        line for line in ingested.stderr.splitlines() if "bad.txt: the file is empty" in line]
    assert "QuarterlyRed report" in listed.stdout, listed.stdout
    assert len(listed.stdout.strip().splitlines()) == 2  # the newline in a name fakes no line
    assert "fake\\nfailed: everything.txt" in listed.stdout


def test_safe_strips_escape_sequences_and_controls():
    assert safe("a\x1b]0;title\x07b\x1b[1;31mc\x1bPdcs\x1b\\d\x9b2Je\x00f\u202eg") == "abcdefg"
    assert safe("line one\nline\ttwo") == "line one\nline\ttwo"
    assert safe("two\nlines\tx", one_line=True) == "two\\nlines\\tx"
    assert safe("Café 名前 🚀") == "Café 名前 🚀"
