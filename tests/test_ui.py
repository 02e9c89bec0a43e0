"""The chat UI's callbacks, called directly, over a real assistant and a real index in tmp.

The browser tests (test_ui_browser.py) drive the same callbacks through Gradio
and Chromium; these check what each callback returns and keeps.
"""

from __future__ import annotations

import ast
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ui
from qa import Answer, Assistant, Citation
from seedqa.settings import Settings
from ui import render
from tests.documents import write_formats
from ui.app import ChatUI, _streamed
from ui.session import ChatSession

import gradio as gr  # isort: skip  (after seedqa, which ui imports first)

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many drones did Russia fire at Ukraine overnight?"
FOLLOW_UP = "How many of them got through air defences?"


@pytest.fixture(scope="module")
def seeded(seed_index: Settings) -> ChatUI:
    """The UI over the session's seed index (conftest); tests here only read it."""
    return ChatUI(Assistant(seed_index), seed_index)


@pytest.fixture
def fresh(tmp_path) -> ChatUI:
    """The UI over an empty index of its own (a 10 kB upload limit), for tests that write."""
    settings = Settings(data_dir=tmp_path / "index", max_file_mb=0.01)
    return ChatUI(Assistant(settings), settings)


def _ask(chat: ChatUI, question: str, session: ChatSession | None = None):
    """Run one question to the end; returns (every yield, final messages, session)."""
    steps = list(chat.ask(question, session))
    messages, session, textbox = steps[-1]
    return steps, messages, session


def _visible_text(markup: str) -> str:
    """What a browser shows for `markup`: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup.replace("<br>", "\n")))


# --- surface -------------------------------------------------------------------------------


def test_public_surface_is_build_app_and_serve():
    assert ui.__all__ == ["build_app", "serve"]
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_importing_ui_loads_no_model_and_starts_nothing():
    """In a fresh interpreter: analytics are off before gradio loads; no model, no Chroma, no server."""
    code = (
        "import builtins, os, sys, threading\n"
        "seen = {}\n"
        "real_import = builtins.__import__\n"
        "def spy(name, *args, **kwargs):\n"
        "    if name == 'gradio' and 'gradio' not in seen:\n"
        "        seen['gradio'] = os.environ.get('GRADIO_ANALYTICS_ENABLED')\n"
        "    return real_import(name, *args, **kwargs)\n"
        "builtins.__import__ = spy\n"
        "import ui\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb') if m in sys.modules]\n"
        "print(seen.get('gradio'), heavy, threading.active_count())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "[]", "1"]


def test_build_app_builds_a_queued_blocks_without_launching(seeded):
    demo = ui.build_app(seeded.assistant, seeded.settings)
    assert isinstance(demo, gr.Blocks)
    assert not demo.is_running and getattr(demo, "server", None) is None
    assert demo._queue.default_concurrency_limit == seeded.settings.concurrency_limit


def test_ui_only_calls_qa():
    """No Chroma, model or store code in ui/: it reaches the index only through the assistant."""
    forbidden = {"chromadb", "sentence_transformers", "torch", "transformers", "index", "ingest"}
    for module in (ROOT / "ui").glob("*.py"):
        tree = ast.parse(module.read_text())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in names if name.split(".")[0] in forbidden or name in forbidden}, module


def test_an_answer_that_arrives_whole_is_revealed_in_steps():
    whole = Answer(question="q", text="one two three four five six seven eight [1]",
                   citations=(Citation("s", "t", "x", 0, 1, 1.0),))
    steps = list(_streamed(iter([whole]), steps=4))
    assert steps[-1] == whole
    assert [len(step.text) for step in steps] == sorted(len(step.text) for step in steps)
    assert all(step.citations == () for step in steps[:-1]) and len(steps) == 4
    partial = [Answer(question="q", text="one"), Answer(question="q", text="one two"), whole]
    assert list(_streamed(iter(partial))) == partial  # a streaming assistant passes straight through


# --- chat ----------------------------------------------------------------------------------


def test_answer_streams_in_with_its_citations(seeded):
    steps, messages, session = _ask(seeded, QUESTION)
    assert steps[0][2] == ""  # the textbox is cleared as soon as the question is taken
    assert "Searching" in steps[0][0][-1]["content"]
    assert len(steps) > 3, "the answer should arrive in several steps"
    assert all("seedqa-streaming" in step[0][-1]["content"] for step in steps[:-1])

    assert [m["role"] for m in messages] == ["user", "assistant"]
    final = messages[-1]["content"]
    assert "seedqa-answered" in final and "seedqa-streaming" not in final
    assert "<strong>165</strong>" in final
    assert 'class="seedqa-cite seedqa-turn-0 seedqa-n-1"' in final
    answer = session.turns[0].answer
    assert answer.citations and "165" in answer.span
    title = answer.citations[0].title
    assert _visible_text(render._text(title)) in _visible_text(final)
    assert "2026-01-27" in _visible_text(final)


def test_follow_up_uses_the_session_history(seeded):
    _, _, session = _ask(seeded, QUESTION)
    assert session.history() == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": session.turns[0].answer.text},
    ]
    _, messages, session = _ask(seeded, FOLLOW_UP, session)
    assert len(messages) == 4
    assert "<strong>24</strong>" in messages[-1]["content"]


def test_sessions_do_not_share_conversations(seeded):
    _, _, first = _ask(seeded, QUESTION)
    _, messages, second = _ask(seeded, "Who won the 2022 football World Cup?", ChatSession())
    assert second is not first
    assert len(second.turns) == 1 and len(first.turns) == 1
    assert QUESTION not in _visible_text(" ".join(m["content"] for m in messages))


def test_abstention_reads_differently_and_lists_closest_passages(seeded):
    _, messages, session = _ask(seeded, "Who won the 2022 football World Cup?")
    final = messages[-1]["content"]
    assert session.turns[0].answer.abstained
    assert "seedqa-abstained" in final and "seedqa-answered" not in final
    assert "Not in the documents" in final
    assert "Closest passages" in final


def test_clicked_citation_shows_the_passage_highlighted_in_its_document(seeded):
    _, _, session = _ask(seeded, QUESTION)
    citation = session.turns[0].answer.citations[0]
    document = seeded.assistant.document_text(citation.source)

    shown = seeded.show_citation(session, gr.EventData(None, {"turn": 0, "n": 1}))
    highlighted = re.search(r'<mark class="seedqa-highlight">(.*?)</mark>', shown, re.DOTALL)
    assert highlighted
    assert _visible_text(highlighted.group(1)) == citation.text
    before = _visible_text(shown.split('<mark class="seedqa-highlight">')[0])
    assert document[max(0, citation.start - 80) : citation.start].strip()[-40:] in before
    assert "<strong class=\"seedqa-focus\">" in shown  # the answer's sentence, in bold


def test_unknown_citation_gives_a_notice_not_an_error(seeded):
    assert "no longer" in seeded.citation_html(ChatSession(), 3, 1)
    assert "could not be read" in seeded.show_citation(ChatSession(), gr.EventData(None, {}))


def test_new_chat_starts_an_empty_session(seeded):
    messages, session, passage = seeded.new_chat()
    assert messages == [] and session.turns == [] and "Click a citation" in passage


def test_example_questions_come_from_the_indexed_titles(seeded):
    documents, _, examples = seeded.refresh()
    title = seeded.assistant.documents()[0].title
    assert "seedqa-example" in examples
    assert _visible_text(render._text(title.rstrip("…")[:30])) in _visible_text(examples)
    _, messages, _ = _ask(seeded, render.example_questions(seeded.assistant.documents())[0])
    assert "seedqa-answered" in messages[-1]["content"]


# --- errors --------------------------------------------------------------------------------


def test_empty_index_answers_with_a_readable_message(fresh):
    _, messages, session = _ask(fresh, QUESTION)
    final = messages[-1]["content"]
    assert "seedqa-error" in final
    assert "holds no documents" in _visible_text(final)
    assert "Traceback" not in final
    assert not session.busy


def test_blank_question_is_ignored(fresh):
    steps, messages, session = _ask(fresh, "   ")
    assert len(steps) == 1 and messages == [] and session.turns == []


def test_too_long_question_answers_with_a_readable_message(seeded):
    _, messages, _ = _ask(seeded, "drones " * 1000)
    assert "seedqa-error" in messages[-1]["content"]
    assert "SEEDQA_MAX_QUESTION_CHARS" in _visible_text(messages[-1]["content"])


# --- documents -----------------------------------------------------------------------------


def test_uploaded_document_is_listed_and_answerable_at_once(fresh, tmp_path):
    upload = tmp_path / "incoming" / "lighthouse.md"
    upload.parent.mkdir()
    upload.write_text("# Lighthouse log\n\nThe keeper of Skerry Point lighthouse is Morag Lindqvist. "
                      "The lamp was relit on 3 March 2025.\n")
    status, documents, choices, examples = fresh.upload([str(upload)])[:4]
    assert "added" in _visible_text(status)
    assert "Lighthouse log" in _visible_text(documents)
    assert "Lighthouse log" in _visible_text(examples)
    [stored] = fresh.uploads.files()
    assert "lighthouse" not in stored.name and stored.suffix == ".md"  # a name we generated
    from ui.plain import document_key  # the menu carries a key, never the server path
    assert choices["choices"] == [("Lighthouse log (lighthouse.md)", document_key(str(stored.resolve())))]

    _, messages, _ = _ask(fresh, "Who is the keeper of Skerry Point lighthouse?")
    assert "Morag Lindqvist" in _visible_text(messages[-1]["content"])


def test_every_supported_format_uploads_and_pdf_citations_name_their_page(fresh, tmp_path):
    files = write_formats(tmp_path / "incoming")
    status, documents, *_ = fresh.upload([str(path) for path in files.values()])
    assert _visible_text(status).count(": added") == 4
    assert {"Harbour Report", "Lighthouse Notes", "Bakery Ledger"} <= set(
        record.title for record in fresh.assistant.documents())
    _, messages, _ = _ask(fresh, "When was the cider press bought?")
    shown = _visible_text(messages[-1]["content"])
    # The cited passage is page 2's paragraph (chunks follow paragraphs; pages end them).
    assert "1998" in shown and "page 2" in shown


def test_bad_uploads_are_reported_and_nothing_breaks(fresh, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 5000)  # 25 kB, over the 0.01 MB limit of this index
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    sheet = tmp_path / "table.csv"
    sheet.write_text("a,b\n1,2\n")
    with pytest.warns(UserWarning, match="Some files were not added"):  # gr.Warning, outside a request
        status, documents, *_ = fresh.upload([str(big), str(empty), str(sheet)])
    text = _visible_text(status)
    assert "big.txt" in text and "limit" in text and "SEEDQA_MAX_FILE_MB" in text
    assert "empty.txt" in text and "empty" in text.split("empty.txt", 1)[1]
    assert "table.csv" in text
    assert "No documents yet" in _visible_text(documents)
    assert fresh.assistant.documents() == []
    assert not fresh.uploads.files()


def test_uploading_the_same_name_again_replaces_the_earlier_version(fresh, tmp_path):
    for number, code in enumerate(["4412", "9087"]):
        folder = tmp_path / f"v{number}"
        folder.mkdir()
        (folder / "codes.txt").write_text(f"The storeroom code is {code}.\n")
        status = fresh.upload([str(folder / "codes.txt")])[0]
        assert "codes.txt: " in _visible_text(status)
    [stored] = fresh.uploads.files()
    assert [record.source for record in fresh.assistant.documents()] == [str(stored.resolve())]
    _, messages, _ = _ask(fresh, "What is the storeroom code?")
    assert "9087" in _visible_text(messages[-1]["content"])
    assert "4412" not in _visible_text(messages[-1]["content"])


def test_remove_document_forgets_it_and_its_upload(fresh, tmp_path):
    upload = tmp_path / "note.txt"
    upload.write_text("The meeting room code is 7731 and it changes every Friday.")
    fresh.upload([str(upload)])
    source = fresh.assistant.documents()[0].source
    status, documents, choices, _ = fresh.remove(source)
    assert "Removed note.txt" in _visible_text(status)
    assert fresh.assistant.documents() == [] and choices["choices"] == []
    assert not Path(source).exists() and not fresh.uploads.files()
    with pytest.raises(gr.Error):
        fresh.remove(None)
    with pytest.raises(gr.Error, match="No indexed document"):
        fresh.remove(source)


# --- rendering untrusted text ------------------------------------------------------------

EVIL = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> '
        "**x** [2](http://e.x) $$a$$ {{v}}")


def _evil_answer(abstained: bool = False) -> Answer:
    citation = Citation(source="/docs/<b>.txt", title=EVIL, text=EVIL + "\nsecond line", start=0,
                        end=len(EVIL) + 12, score=1.0, date="2026-01-01", page=3)
    return Answer(question="q", text=f"Here: **{EVIL}** [1] [9]", citations=(citation,),
                  abstained=abstained)


@pytest.mark.parametrize("abstained", [False, True])
def test_untrusted_text_renders_as_text(abstained):
    answer = _evil_answer(abstained)
    for markup in (
        render.answer_message(answer, 0),
        render.passage_in_context(answer.citations[0], 1, answer.citations[0].text),
        render.documents_table([_Record(EVIL)]),
        render.examples_html(render.example_questions([_Record(EVIL)])),
        render.question_message(EVIL),
        render.error_message(EVIL),
    ):
        assert "<script" not in markup and "<img" not in markup and "onerror=\"" not in markup
        assert "http://" not in markup and "{{" not in markup and "$$" not in markup
        assert "\n\n" not in markup  # one HTML block: Markdown never re-parses the inside
        assert "window.__pwned=1" in _visible_text(markup)


def test_answer_markers_become_buttons_only_for_real_citations():
    markup = render.answer_message(_evil_answer(), 4)
    assert markup.count("seedqa-cite seedqa-turn-4 seedqa-n-1") == 2  # in the text and the list
    assert "seedqa-n-9" not in markup and "[9]" in _visible_text(markup)
    assert "page 3" in markup and "2026" in _visible_text(markup)
    assert "<strong>" in markup  # the answer span
    streaming = render.answer_message(_evil_answer(), 4, final=False)
    assert "seedqa-cite" not in streaming and "seedqa-streaming" in streaming


def test_passage_is_found_again_when_its_document_moved_it():
    citation = Citation(source="s", title="t", text="the cited words", start=4, end=19, score=1.0)
    moved = render.passage_in_context(citation, 1, "Some new text first. Then the cited words follow.")
    assert '<mark class="seedqa-highlight">the cited words</mark>' in moved
    assert "Then" in _visible_text(moved)
    gone = render.passage_in_context(citation, 1, "Nothing of it is left.")
    assert '<mark class="seedqa-highlight">the cited words</mark>' in gone


class _Record:
    def __init__(self, title: str) -> None:
        self.title, self.source, self.date, self.chunks, self.ingested_at = title, "/x/<y>.txt", None, 1, 0.0


def test_a_question_that_is_not_text_is_refused_and_the_session_goes_on(seeded):
    """A lone surrogate (bytes that were not UTF-8) once broke the session for good."""
    import json

    chat = seeded
    *_, (messages, session, _) = chat.ask("caf\udce9 drones?", None)
    assert "not valid UTF-8" in session.turns[-1].error
    json.dumps(messages, ensure_ascii=False).encode("utf-8")  # renders as valid text
    *_, (messages, session, _) = chat.ask("How many drones did Russia fire at Ukraine overnight?",
                                          session)
    assert "165" in messages[-1]["content"]
    json.dumps(messages, ensure_ascii=False).encode("utf-8")


def test_hard_wrapped_lines_read_as_sentences_in_the_passage_view():
    document = ("Drone Report\n\nAccording to the directorate, the drone can carry a 90kg warhead "
                "and has\na range of nearly 1,000km, officials said on Tuesday in a statement\n"
                "to the press.\n\n- item one\n- item two\n")
    start = document.index("According")
    end = document.index("press.") + len("press.")
    citation = Citation("d.pdf", "Drone Report", document[start:end], start, end, 1.0)
    shown = render.passage_in_context(citation, 1, document)
    assert "warhead and has a range" in shown and "statement to the press" in shown
    assert "item one<br>- item two" in shown.replace("&#45;", "-")  # a list keeps its lines
    assert f"characters {start}–{end}" in shown
