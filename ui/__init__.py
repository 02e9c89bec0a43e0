"""The chat UI: a Gradio app over `qa.Assistant`. Gradio is imported only here, in `ui`."""

from seedqa.offline import quiet_environment

# huggingface_hub (imported by gradio) reads HF_HUB_OFFLINE once, at its import:
# the switches must be set before `ui.app` imports gradio.
quiet_environment()

from ui.app import build_app  # noqa: E402
from ui.server import serve  # noqa: E402

__all__ = ["build_app", "serve"]
