"""seedqa works with no network: telemetry off, tokenizer and model from packages."""

from __future__ import annotations

import os
import socket

import pytest

from seedqa.offline import tiktoken_cache


@pytest.mark.parametrize("entry", [
    "import ui",
    "from cli import main; main(['documents'], standalone_mode=False)",
    "import qa; from seedqa.settings import Settings; qa.Assistant(Settings()).documents()",
])
def test_entry_points_turn_telemetry_and_downloads_off(entry, tmp_path):
    """Whichever door a user comes in by, the switches are off before the libraries load."""
    import subprocess
    import sys

    check = ("import os; assert os.environ['HF_HUB_OFFLINE'] == '1'; "
             "assert os.environ['ANONYMIZED_TELEMETRY'] == 'False'; "
             "assert os.environ['GRADIO_ANALYTICS_ENABLED'] == 'False'")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "True", "GRADIO_ANALYTICS_ENABLED": "True",
           "SEEDQA_DATA_DIR": str(tmp_path)}
    env.pop("HF_HUB_OFFLINE", None)
    from index import Index
    from seedqa.settings import Settings

    # An empty index: reads on a folder with none never load Chroma (nor create anything).
    Index(Settings(data_dir=tmp_path)).open_for_writing()
    result = subprocess.run([sys.executable, "-c", f"{entry}\n{check}"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def no_network(monkeypatch):
    """Any connection that leaves the machine fails the test."""
    attempts = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") \
                and not host.startswith("/"):
            attempts.append(address)
            raise OSError(f"test blocked an outbound connection to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


def test_tiktoken_files_come_from_the_package(tmp_path, no_network):
    directory = tiktoken_cache(tmp_path, "cl100k_base")
    assert len(list(directory.iterdir())) == 1
    import tiktoken

    tiktoken.registry.ENCODINGS.pop("cl100k_base", None)  # force a fresh load from the cache
    assert tiktoken.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert no_network == []


def test_ingest_and_answer_make_no_outbound_connection(settings, no_network):
    from ingest import ingest_paths
    from qa import Assistant
    from tests.conftest import SEEDS

    ingest_paths([SEEDS], settings)
    answer = Assistant(settings).answer("How many people were injured in Odesa?")
    assert "23" in answer.text
    assert no_network == []
