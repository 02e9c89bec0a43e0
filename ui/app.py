"""The chat UI: a thin layer over `qa.Assistant`.

`ChatUI` holds the assistant and settings; its methods are the callbacks, plain
functions that tests call directly. `build` lays them out in one `gr.Blocks`.
Nothing here touches Chroma or the embedding model, and nothing launches on
import: `ui.server.serve` is the only place a server starts.

Each browser session gets its own `ChatSession` through `gr.State`, so one
user's conversation (and the history sent with follow-up questions) never
reaches another's. The index is shared: an upload is answerable for everyone.
"""

from __future__ import annotations

import dataclasses
import os
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from seedqa.errors import DocumentNotFoundError, IndexNotReadyError, SeedqaError
from seedqa.settings import Settings
from ui import render
from ui.assets import CITATION_JS, EXAMPLES_JS
from ui.plain import document_key, toast_text, without_paths
from ui.session import ChatSession, Turn
from ui.uploads import UploadFolder

if TYPE_CHECKING:
    from qa import Answer, Assistant

UPLOAD_TYPES = [".txt", ".md", ".html", ".pdf"]
REVEAL_STEPS = 6  # partial answers shown when an answer arrives whole
REVEAL_SECONDS = 0.25


def backend_choices(settings: Settings) -> list[tuple[str, str]]:
    """(label, backend) pairs for the answer-writer choice: quoting, plus the configured LLM."""
    choices = [("Quoted from the passages (no LLM)", "extractive")]
    if settings.llm_backend != "extractive":
        from qa.llm import describe

        choices.append((f"LLM ({describe(settings)}), checked against the passages",
                        settings.llm_backend))
    return choices


def _streamed(answers: Iterator[Answer], steps: int = REVEAL_STEPS) -> Iterator[Answer]:
    """Pass a streaming assistant's partial answers through; reveal an answer that came whole.

    An extractive answerer yields one finished answer: show its words arriving in
    a few quick steps (about a quarter of a second in all), then the final answer.
    """
    count = 0
    for answer in answers:
        count += 1
        if count == 1:
            first = answer
            continue
        if count == 2:
            yield first
        yield answer
    if count == 1:
        words = first.text.split(" ")
        for step in range(1, steps):
            shown = " ".join(words[: max(1, len(words) * step // steps)])
            yield dataclasses.replace(first, text=shown, citations=())
            time.sleep(REVEAL_SECONDS / steps)
        yield first


class ChatUI:
    """The callbacks of the chat app, over one shared assistant."""

    def __init__(self, assistant: Assistant, settings: Settings | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings
        self.upload_dir = Path(self.settings.data_dir) / "uploads"
        self.uploads = UploadFolder(self.upload_dir)

    # --- chat -----------------------------------------------------------------

    def ask(self, question: str, session: ChatSession | None,
            backend: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Answer `question` in this session, streaming: yields (messages, session, textbox).

        `backend` is the answer writer chosen in the page (None: the settings' choice).
        """
        session = session if session is not None else ChatSession()
        question = (question or "").strip()
        if not question:
            yield session.messages(), session, gr.update()
            return
        if session.busy:
            gr.Warning(toast_text("Still answering the previous question; ask again when it is done."))
            yield session.messages(), session, gr.update()
            return
        history = session.history()
        # Shown as valid text whatever came in: a lone surrogate (bytes that are not UTF-8)
        # kept in the session would break every later render; the assistant refuses it.
        turn = Turn(question.encode("utf-8", "replace").decode("utf-8"))
        session.turns.append(turn)
        session.busy = True
        try:
            yield session.messages(), session, ""
            chosen = {"backend": backend} if backend else {}
            for answer in _streamed(self.assistant.stream(question, history=history, **chosen)):
                turn.answer = answer
                yield session.messages(), session, ""
        except IndexNotReadyError as error:
            turn.error = f"{error} Or upload a file under Documents."
        except SeedqaError as error:
            turn.error = str(error)
        finally:
            turn.done = True
            session.busy = False
        if turn.answer is None and turn.error is None:
            turn.error = "The assistant returned no answer. Try asking again."
        yield session.messages(), session, ""

    def answer(self, question: str, history: list[dict] | None = None) -> dict:
        """The `/answer` API endpoint: a named question (and history) in, the Answer as JSON out.

        For programs (gradio_client); the page uses `ask`. An empty question is an error.
        """
        if not isinstance(question, str) or not question.strip():
            raise gr.Error("The question is empty; type a question about your documents.")
        try:
            answer = self.assistant.answer(question, list(history or []) or None)
        except SeedqaError as error:
            raise gr.Error(str(error)) from error
        return json.loads(answer.to_json())

    def ask_example(self, session: ChatSession | None, event: gr.EventData,
                    backend: str | None = None) -> Iterator[tuple[Any, ...]]:
        """A click on an example question asks it."""
        yield from self.ask(str(getattr(event, "question", "") or ""), session, backend)

    def new_chat(self) -> tuple[list, ChatSession, str]:
        return [], ChatSession(), render.PASSAGE_PLACEHOLDER

    # --- citations --------------------------------------------------------------

    def citation_html(self, session: ChatSession | None, turn: int, n: int) -> str:
        """Citation `n` of answer `turn`, highlighted in the text around it in its document."""
        citation = session.citation(turn, n) if session is not None else None
        if citation is None:
            return render.notice("That citation is no longer in this conversation.", "warning")
        try:
            document = self.assistant.document_text(citation.source)
        except DocumentNotFoundError:
            return render.notice(
                "That document has been removed from the index; the passage was:\n" + citation.text,
                "warning",
            )
        focus = session.turns[turn].answer.focus
        return render.passage_in_context(citation, n, document, focus,
                                         name=self.uploads.name(citation.source))

    def show_citation(self, session: ChatSession | None, event: gr.EventData) -> str:
        try:
            turn, n = int(event.turn), int(event.n)
        except (AttributeError, TypeError, ValueError):
            return render.notice("That citation could not be read.", "warning")
        return self.citation_html(session, turn, n)

    # --- documents --------------------------------------------------------------

    def refresh(self) -> tuple[str, Any, str]:
        """The documents table, the remove menu and the example questions, from the index."""
        try:
            records = self.assistant.documents()
        except IndexNotReadyError:  # no index yet: the first upload makes one
            records = []
        except SeedqaError as error:  # damaged, or its folder removed under the running chat
            return (render.notice(str(error), "error"), gr.update(choices=[], value=None),
                    render.examples_html([]))
        names = {record.source: self.uploads.name(record.source) for record in records}
        # The menu's values reach the browser: a key per document, never its server path.
        choices = [(f"{record.title or names[record.source]} ({names[record.source]})",
                    document_key(record.source)) for record in records]
        return (
            render.documents_table(records, names),
            gr.update(choices=choices, value=None),
            render.examples_html(render.example_questions(records)),
        )

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Copy uploaded files into the uploads folder and ingest them; returns a status and a refresh."""
        paths = [Path(str(file)) for file in (files or [])]
        if not paths:
            return (gr.update(), *self.refresh(), None)
        try:
            self.assistant.check_index()  # its folder removed or replaced: say so, stage nothing
        except SeedqaError as error:
            return (render.notice(str(error), "error"), *self.refresh(), None)
        limit = self.settings.max_file_mb * 1e6
        lines: list[tuple[str, str]] = []
        staged: list[Path] = []
        if len(paths) > self.settings.max_upload_files:
            message = (f"{len(paths)} files at once is over the limit of "
                       f"{self.settings.max_upload_files} (SEEDQA_MAX_UPLOAD_FILES); nothing was added.")
            gr.Warning(toast_text(message))
            return (render.notice(message, "error"), *self.refresh(), None)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        for path in paths:
            name = Path(path.name).name
            if path.suffix.lower() not in UPLOAD_TYPES:
                lines.append(("error", f"{name}: seedqa reads {', '.join(UPLOAD_TYPES)} files, "
                                       f"not '{path.suffix}'."))
                continue
            size = path.stat().st_size
            if size > limit:
                lines.append(("error", f"{name}: {render.size(size)} is over the {render.size(limit)} "
                                       "limit per file (set SEEDQA_MAX_FILE_MB to change it)."))
                continue
            # A name we generate, never the one the browser sent (ui/uploads.py).
            target = self.uploads.place(name, path.suffix)
            shutil.copyfile(path, target)
            staged.append(target)

        shown = {target.name: self.uploads.name(target) for target in staged}

        def report_progress(done: int, total: int, message: str) -> None:
            stored, colon, rest = message.partition(":")  # "<stored name>: embedding 512 of ..."
            message = shown.get(stored, stored) + colon + rest
            progress((done, max(total, 1)), desc=f"Indexing {message}", unit="files")

        def report_wait(message: str) -> None:  # another writer holds the lock: say so
            progress(0, desc=message)

        if staged:
            progress(0, desc="Indexing")
            try:
                report = self.assistant.add_documents(staged, progress=report_progress,
                                                      on_wait=report_wait)
            except Exception as error:  # a full or read-only disk, a busy index, a bug
                self._forget_unindexed(staged)
                message = str(error) if isinstance(error, SeedqaError) else \
                    f"Indexing failed ({type(error).__name__}); nothing new was added."
                raise gr.Error(toast_text(message, self._hidden())) from error
            for result in report.files:
                stored, name = Path(result.source).name, self.uploads.name(result.source)
                if result.status in ("failed", "skipped"):
                    message = (result.message or f"{stored}: {result.status}").replace(stored, name)
                    lines.append(("error", without_paths(message, self._hidden())))
                else:
                    lines.append(("ok", f"{name}: {result.status}, {result.chunks} chunks. "
                                        "Ask about it now."))
            self._forget_unindexed(staged, report)
        failed = [text.split(":", 1)[0] for kind, text in lines if kind == "error"]
        if failed:
            # Names only (ours, cleaned): the parsers' texts are in the status, escaped.
            gr.Warning(toast_text(f"Some files were not added: {', '.join(failed)}. "
                                  "The reasons are listed under Documents."))
        status = "".join(render.notice(text, "error" if kind == "error" else "info")
                         for kind, text in lines)
        return (status, *self.refresh(), None)

    def _forget_unindexed(self, staged: list[Path], report=None) -> None:
        """Delete every staged upload that is not in the index now: none is kept unread."""
        if report is not None:
            indexed = {result.source for result in report.files
                       if result.status in ("added", "updated", "unchanged")}
        else:
            try:
                indexed = {record.source for record in self.assistant.documents()}
            except SeedqaError:  # the index itself failed: nothing staged is in it
                indexed = set()
        for target in staged:
            if os.path.realpath(target) not in indexed:
                self.uploads.forget(target)

    def _hidden(self) -> tuple[Path, ...]:
        return (Path(self.settings.data_dir),)

    def remove(self, source: str | None) -> tuple[Any, ...]:
        """Remove one document from the index (and its uploaded copy, if it was uploaded here).

        `source` is the menu's key for the document (or, from Python, its source).
        """
        if not source:
            raise gr.Error("Choose a document to remove first.")
        keys = {document_key(record.source): record.source for record in self.assistant.documents()}
        source = keys.get(source, source)
        name = self.uploads.name(source)
        try:
            chunks = self.assistant.remove_document(source)
        except SeedqaError as error:  # not indexed, another writer, a read-only disk
            raise gr.Error(toast_text(error, self._hidden())) from error
        self.uploads.forget(source)
        status = render.notice(f"Removed {name} ({chunks} chunks).")
        return (status, *self.refresh())

    # --- layout -------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        # delete_cache: Gradio's copies of uploads go after an hour (ours live in upload_dir).
        with gr.Blocks(title="seedqa", delete_cache=(3600, 3600)) as demo:
            session = gr.State(ChatSession())
            gr.Markdown("## seedqa\nAsk questions about your documents. Every answer cites its passages: "
                        "click a number such as **[1]** to read it in its document.")
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Chat", elem_id="seedqa-chat", height=560, buttons=[],
                        feedback_options=None, latex_delimiters=[], allow_tags=False,
                        sanitize_html=True, layout="bubble",
                        placeholder="Ask a question about the indexed documents.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False, placeholder="Ask a question…", elem_id="seedqa-question",
                            scale=6, max_lines=4, autofocus=True,
                        )
                        ask = gr.Button("Ask", variant="primary", elem_id="seedqa-ask", scale=1,
                                        min_width=80)
                        clear = gr.Button("New chat", elem_id="seedqa-new-chat", scale=1, min_width=80)
                    examples = gr.HTML(elem_id="seedqa-examples", js_on_load=EXAMPLES_JS)
                    choices = backend_choices(self.settings)
                    backend = gr.Radio(
                        choices=choices, value=self.settings.llm_backend, label="Answers",
                        elem_id="seedqa-backend", interactive=len(choices) > 1,
                        info=None if len(choices) > 1 else
                        "Set SEEDQA_LLM_BACKEND to let an LLM write answers (see README).",
                    )
                with gr.Column(scale=2):
                    passage = gr.HTML(
                        render.PASSAGE_PLACEHOLDER, label="Passage", elem_id="seedqa-passage",
                        js_on_load=CITATION_JS, container=True, padding=True,
                    )
                    with gr.Accordion("Documents", open=True, elem_id="seedqa-documents-panel"):
                        documents = gr.HTML(elem_id="seedqa-documents")
                        upload = gr.File(
                            label=f"Add documents ({', '.join(UPLOAD_TYPES)}; up to "
                                  f"{render.size(self.settings.max_file_mb * 1e6)} each)",
                            file_count="multiple", file_types=UPLOAD_TYPES, elem_id="seedqa-upload",
                            height=120,
                        )
                        status = gr.HTML(elem_id="seedqa-status")
                        with gr.Row():
                            chosen = gr.Dropdown(label="Remove a document", choices=[],
                                                 elem_id="seedqa-remove-choice", scale=3)
                            remove = gr.Button("Remove", variant="stop", elem_id="seedqa-remove",
                                               scale=1, min_width=80)

            chat_outputs = [chatbot, session, question]
            gr.on([question.submit, ask.click], self.ask, inputs=[question, session, backend],
                  outputs=chat_outputs, api_name="ask")
            gr.api(self.answer, api_name="answer")
            examples.click(self.ask_example, inputs=[session, backend], outputs=chat_outputs,
                           api_name=False)
            gr.on([clear.click, chatbot.clear], self.new_chat, outputs=[chatbot, session, passage],
                  api_name=False)
            passage.click(self.show_citation, inputs=[session], outputs=[passage], api_name=False)

            listing = [documents, chosen, examples]
            demo.load(self.refresh, outputs=listing, api_name=False)
            upload.upload(self.upload, inputs=[upload], outputs=[status, *listing, upload],
                          concurrency_id="index-write", concurrency_limit=1, api_name=False)
            remove.click(self.remove, inputs=[chosen], outputs=[status, *listing],
                         concurrency_id="index-write", concurrency_limit=1, api_name=False)
        demo.queue(default_concurrency_limit=self.settings.concurrency_limit)
        return demo


def build_app(assistant: Assistant, settings: Settings | None = None) -> gr.Blocks:
    """The chat app over `assistant`, queued with the settings' concurrency limit; not launched."""
    return ChatUI(assistant, settings).build()
