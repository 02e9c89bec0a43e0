"""Where chat uploads are kept: under names we generate, beside the names people gave them.

A browser chooses an upload's name, so that name never becomes a path: each
file is stored as `<data dir>/uploads/<16 random hex digits><extension>`, and
a small manifest (`.names.json`, written atomically) remembers the name it
came with, sanitised by `upload_name`. The chat shows that name; uploading a
file under a name already kept replaces that file (its new version is
re-ingested in place), which is what people expect of "upload again".
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from ui.security import upload_name

MANIFEST = ".names.json"


class UploadFolder:
    """The uploads folder and its manifest; safe to share between the chat's threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def place(self, original: str, suffix: str) -> Path:
        """Where to store an upload called `original`: its earlier path, or a newly generated one."""
        name = upload_name(original, suffix)
        with self._lock:
            names = self._read()
            for stored, known in names.items():
                if known == name:
                    return self.folder / stored
            stored = f"{secrets.token_hex(8)}{suffix.lower()}"
            names[stored] = name
            self._write(names)
        return self.folder / stored

    def name(self, path: str | Path) -> str:
        """The name a stored upload came with (any other path: its own file name)."""
        path = Path(path)
        if self.owns(path):
            return self._read().get(path.name, path.name)
        return path.name

    def owns(self, path: str | Path) -> bool:
        return Path(path).resolve().parent == self.folder.resolve()

    def forget(self, path: str | Path) -> None:
        """Delete a stored upload and its manifest entry."""
        path = Path(path)
        if not self.owns(path):
            return
        path.unlink(missing_ok=True)
        with self._lock:
            names = self._read()
            if names.pop(path.name, None) is not None:
                self._write(names)

    def files(self) -> list[Path]:
        """The stored uploads (not the manifest)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.name != MANIFEST)

    def _read(self) -> dict[str, str]:
        try:
            names = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no uploads yet, or a damaged manifest: files keep their generated names
        return names if isinstance(names, dict) else {}

    def _write(self, names: dict[str, str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f"{MANIFEST}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(names, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, self.folder / MANIFEST)
