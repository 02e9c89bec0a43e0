"""seedqa's HTTP API: a FastAPI app over `qa.Assistant` (answers, retrieval, documents,
an OpenAI-compatible chat endpoint), with the Gradio chat mounted at /chat.

`build_app(assistant, settings)` returns the app without serving it; `serve` runs it
with uvicorn. Like `ui`, it only calls the Assistant: never the store or Chroma.
"""

import seedqa  # noqa: F401  (quiet, offline environment first)
from api.app import build_app
from api.server import serve

__all__ = ["build_app", "serve"]
