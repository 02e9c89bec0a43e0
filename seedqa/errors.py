"""Errors a user can act on. Each message says what went wrong and how to fix it.

They are turned into output only at the edges: one line from the CLI, a
readable message in the chat UI.
"""

from __future__ import annotations


class SeedqaError(Exception):
    """Base class for every error seedqa reports to a user."""


class IndexNotReadyError(SeedqaError):
    """The index does not exist yet or holds no documents."""

    def __init__(self, location: str) -> None:
        super().__init__(
            f"The index at {location} holds no documents yet. "
            "Add some first: seedqa ingest PATH (for example: seedqa ingest seeds/)."
        )


class InvalidQuestionError(SeedqaError):
    """The question is empty, too long or has no words in it."""


class IngestError(SeedqaError):
    """A file could not be read into the index."""


class UnsupportedFileError(IngestError):
    """The file's type is not one seedqa reads."""


class DocumentNotFoundError(SeedqaError):
    """No indexed document has that source."""
