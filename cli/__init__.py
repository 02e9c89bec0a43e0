"""The `seedqa` command line: the top of the stack, over `qa` (and `ui`, `evaluation`)."""

from cli.main import main

__all__ = ["main"]
