"""The chat UI: a Gradio app over `qa.Assistant`. Gradio is imported only here, in `ui`."""

import seedqa  # noqa: F401  (quiet, offline environment first: GRADIO_ANALYTICS_ENABLED=False)
from ui.app import build_app, serve

__all__ = ["build_app", "serve"]
