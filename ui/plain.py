"""What the chat may show a browser outside its own escaped HTML: toasts, menu keys, names.

Gradio's toasts (gr.Warning, gr.Info, gr.Error) insert their message as HTML
after a sanitiser that keeps `<svg><a href="javascript:...">`: a PDF parser's
error text with such markup ran script on one click. So a toast carries plain
text only: control characters removed, every `<`, `>`, `&` and quote escaped,
and server paths replaced, since every client sees it.
"""

from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path

from seedqa.terminal import safe

TOAST_CHARS = 400


def toast_text(message: object, hide: tuple[Path | str, ...] = ()) -> str:
    """`message` as inert text for a toast, without the server folders in `hide`."""
    text = without_paths(safe(message, one_line=True), hide)
    if len(text) > TOAST_CHARS:
        text = text[: TOAST_CHARS - 1] + "…"
    return html.escape(text, quote=True)


def without_paths(text: str, hide: tuple[Path | str, ...]) -> str:
    """`text` with each folder of `hide` (as given and resolved) named, not spelled out."""
    for folder in hide:
        for form in {str(folder), os.path.realpath(folder)}:
            if form and form != os.sep:
                text = text.replace(form, "the data folder")
    return text


def document_key(source: str) -> str:
    """What a browser gets instead of a document's path (the Remove menu's values)."""
    return "doc-" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:20]
