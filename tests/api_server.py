"""`seedqa serve` in its own process on a free loopback port, for the API and network tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "seedqa serve is running at "


@dataclass
class ApiServer:
    process: subprocess.Popen
    url: str
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, data_dir: Path, cache_dir: Path, extra_env: dict[str, str] | None = None,
              args: Sequence[str] = (), timeout: float = 300,
              wrapper: Sequence[str] = ()) -> ApiServer:
        """Start it; `wrapper` runs it under another command (the network test's strace)."""
        env = dict(os.environ, SEEDQA_DATA_DIR=str(data_dir), SEEDQA_CACHE_DIR=str(cache_dir),
                   PYTHONUNBUFFERED="1", **(extra_env or {}))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT)) if p)
        process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", "0",
             *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"seedqa serve exited: {''.join(lines)}")
            lines.append(line)
            if line.startswith(READY):
                server = cls(process, line[len(READY):].split()[0], lines)
                threading.Thread(target=server._drain, daemon=True).start()
                return server
        os.killpg(process.pid, signal.SIGKILL)
        raise RuntimeError(f"seedqa serve did not start within {timeout} s: {''.join(lines)}")

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
