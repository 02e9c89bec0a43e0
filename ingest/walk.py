"""Which files an ingest reads, under which source name, and what it passes over.

A folder is walked without leaving it: a symbolic link inside it that points
outside (to a file, or to a folder) is passed over and reported, unless
`follow_links` is set. A link that points back inside the folder is harmless
(its target is walked anyway) and is read under its target's path, so the
same file is never indexed twice.

The source a document is stored under is normally the file's real path. A
file that came in through a link leading outside the folder keeps the link's
path instead (the folders above it resolved, the link itself not), so that
`--prune` forgets it once the link is gone even though its target remains.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from seedqa.paths import named_source

from ingest.loaders import SUPPORTED

LINK_NOT_FOLLOWED = "a symbolic link out of the folder, not followed (use --follow-links to read it)"


@dataclass(frozen=True)
class Found:
    path: Path  # what to open
    source: str  # what the index calls it


@dataclass(frozen=True)
class Walk:
    files: tuple[Found, ...]
    passed: tuple[tuple[str, str, str], ...]  # (source, status, message) for what was not read
    roots: tuple[str, ...]  # the folders walked and files named, as sources (for scoped prune)
    unlisted: tuple[str, ...] = field(default=())  # folders that could not be listed


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def walk(paths: Iterable[Path], follow_links: bool = False) -> Walk:
    files: list[Found] = []
    passed: list[tuple[str, str, str]] = []
    roots: list[str] = []
    unlisted: list[str] = []
    seen: set[str] = set()

    def add(path: Path, source: str) -> None:
        if source not in seen:
            seen.add(source)
            files.append(Found(path, source))

    for path in paths:
        path = Path(path)
        if path.is_dir():
            root = os.path.realpath(path)
            roots.append(root)
            _walk_folder(path, root, follow_links, add, passed, unlisted)
        elif path.is_file() or path.is_symlink() or path.exists():
            source = named_source(path)
            roots.append(source)
            add(path, source)  # `load` says what is wrong with links, pipes and devices
        else:
            passed.append((str(path), "failed", f"{path}: no such file or folder"))
    return Walk(tuple(files), tuple(passed), tuple(roots), tuple(unlisted))


def _walk_folder(path: Path, root: str, follow_links: bool, add, passed, unlisted) -> None:
    visited = {root}  # real paths of folders walked: a followed link loop is walked once

    def failed(error: OSError) -> None:
        unlisted.append(os.path.realpath(error.filename or path))
        passed.append((str(error.filename or path), "failed",
                       f"{error.filename or path}: cannot list this folder ({error.strerror or error})"))

    # followlinks: folder links are descended only when following was asked for (and
    # `visited` stops loops); without it, links are judged one by one below.
    for current, dirs, names in os.walk(path, onerror=failed, followlinks=follow_links):
        # Where this folder sits as a source: its real path when it is inside the root,
        # else (reached through a followed link) the root plus the path walked.
        here = os.path.realpath(current)
        place = here if _inside(here, root) else os.path.join(root, os.path.relpath(current, path))
        kept = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            full = os.path.join(current, name)
            if os.path.islink(full):
                target = os.path.realpath(full)
                if _inside(target, root) or target in visited:
                    continue  # walked anyway, or a loop
                if not follow_links:
                    passed.append((os.path.join(place, name), "skipped", LINK_NOT_FOLLOWED))
                    continue
                visited.add(target)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = Path(current) / name
            if full.suffix.lower() not in SUPPORTED:
                passed.append((os.path.join(place, name), "skipped",
                               f"unsupported file type '{full.suffix}'"))
                continue
            target = os.path.realpath(full)
            if _inside(target, root) and not (os.path.islink(full) and not os.path.exists(target)):
                add(full, target)
                continue
            if os.path.islink(full) and not os.path.exists(target):
                add(full, os.path.join(place, name))  # dangling or a loop: `load` says which
            elif not follow_links:
                passed.append((os.path.join(place, name), "skipped", LINK_NOT_FOLLOWED))
            else:
                add(full, os.path.join(place, name))
