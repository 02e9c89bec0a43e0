"""seedqa: question answering over your documents, with citations.

The pieces: `ingest` writes the index, `qa` reads it, `ui` only calls `qa`.
This package holds what they share: settings, the index store, errors, and
the command line.
"""

from seedqa.offline import quiet_environment

quiet_environment()

__version__ = "0.1.0"
