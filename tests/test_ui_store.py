"""The chat and its data folder (issue 13 item 6): the folder removed or replaced under a
running chat, and an upload waiting for another writer. ChatUI's callbacks are called
directly over a real assistant and a real index (as in tests/test_ui.py); the other
writer is a real process holding the write lock.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import time

import pytest

from qa import Assistant
from seedqa.settings import Settings
from tests.faults import PYTHON, ROOT, child_env, report_text, wait_for_line
from ui.app import ChatUI

import gradio as gr  # isort: skip  (after seedqa, which ui imports first)

QUESTION = "How many drones did Russia fire at Ukraine overnight?"


class Progress:
    """Stands in for gr.Progress: keeps every description the upload shows."""

    def __init__(self) -> None:
        self.shown: list[tuple[float, str]] = []

    def __call__(self, progress=None, desc: str | None = None, **_) -> None:
        self.shown.append((time.monotonic(), desc or ""))


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _last_reply(chat: ChatUI, question: str) -> str:
    messages, _, _ = list(chat.ask(question, None))[-1]
    return _text(str(messages[-1]["content"]))


@pytest.fixture
def chat(seed_index, tmp_path) -> ChatUI:
    data = tmp_path / "index"
    shutil.copytree(seed_index.data_dir, data)
    settings = seed_index.model_copy(update={"data_dir": data})
    ui = ChatUI(Assistant(settings), settings)
    assert "165" in _last_reply(ui, QUESTION)  # open and warm
    return ui


@pytest.mark.parametrize("how", ["folder_deleted", "folder_replaced", "database_deleted"])
def test_the_chat_notices_its_folder_removed_or_replaced(how, chat, seed_index, tmp_path):
    data = chat.settings.data_dir
    if how == "folder_deleted":
        shutil.rmtree(data)
    elif how == "folder_replaced":
        data.rename(tmp_path / "moved")
        shutil.copytree(seed_index.data_dir, data)  # another index, same path
    else:
        (data / "chroma.sqlite3").unlink()
    expected = f"The index folder {data} was removed or replaced while seedqa was running"
    assert expected in _last_reply(chat, QUESTION)
    note = tmp_path / "note.txt"
    note.write_text(report_text("Kiln Survey", 10, seed=2))
    status, documents, *_ = chat.upload([str(note)], progress=Progress())
    assert expected in _text(status) and "read-only" not in _text(status)
    assert expected in _text(documents)  # the Documents panel says it too
    assert (how != "folder_deleted") == data.exists()  # not recreated by the upload
    if how != "folder_deleted":
        assert not (data / "uploads").exists()


def test_an_upload_waiting_for_another_writer_says_so_in_the_page(tmp_path):
    data = tmp_path / "index"
    settings = Settings(data_dir=data, lock_timeout=60)
    chat = ChatUI(Assistant(settings), settings)
    code = ("import sys, time; from pathlib import Path; from index.locking import write_lock\n"
            "with write_lock(Path(sys.argv[1]), 5):\n"
            "    print('HELD', flush=True); time.sleep(2)\n")
    holder = subprocess.Popen([PYTHON, "-c", code, str(data)], cwd=ROOT,
                              env=child_env(data, settings.cache_dir),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(holder, "HELD", 60)
        note = tmp_path / "note.txt"
        note.write_text(report_text("Kiln Survey", 10, seed=2))
        progress = Progress()
        began = time.monotonic()
        status, *_ = chat.upload([str(note)], progress=progress)
    finally:
        holder.wait(30)
    waits = [(at, desc) for at, desc in progress.shown if "waiting for it to finish" in desc]
    assert waits, progress.shown
    at, desc = waits[0]
    assert f"pid {holder.pid}" in desc and "is writing to the index" in desc
    assert at - began < 1.5  # shown at once, not after the wait
    assert "note.txt: added" in _text(status)  # then the upload went through
    assert "Indexing" in progress.shown[-1][1]


def test_a_damaged_index_is_shown_in_the_documents_panel(seed_index, tmp_path):
    data = tmp_path / "index"
    shutil.copytree(seed_index.data_dir, data)
    (data / "chroma.sqlite3").write_bytes(b"")
    settings = seed_index.model_copy(update={"data_dir": data})
    chat = ChatUI(Assistant(settings), settings)
    documents, choices, _ = chat.refresh()
    assert "is damaged" in _text(documents) and "repair" in _text(documents)
    assert choices["choices"] == []
    assert "is damaged" in _last_reply(chat, QUESTION)
    with pytest.raises(gr.Error):
        note = tmp_path / "note.txt"
        note.write_text(report_text("Kiln Survey", 10, seed=2))
        chat.upload([str(note)], progress=Progress())
    assert (data / "chroma.sqlite3").read_bytes() == b""
