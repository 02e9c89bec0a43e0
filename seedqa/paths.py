"""Where a path the user named points, as seedqa records it."""

from __future__ import annotations

import os
from pathlib import Path


def named_source(path: Path) -> str:
    """The source of a file named on the command line: a link keeps its own path."""
    absolute = os.path.abspath(path)
    if os.path.islink(absolute):
        return os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    return os.path.realpath(absolute)  # unlike Path.resolve, no RuntimeError on a link loop
