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


class LLMSetupError(SeedqaError):
    """An LLM backend is chosen but cannot be used as configured."""


class BackendNotInstalledError(LLMSetupError):
    """The optional package a backend needs is not installed."""


class LLMRequestError(LLMSetupError):
    """The chat model could not be reached or failed to answer."""


class IndexBusyError(SeedqaError):
    """Another process holds the index's write lock for longer than SEEDQA_LOCK_TIMEOUT."""


class IndexWriteError(SeedqaError):
    """The index could not be written: a read-only or full disk, or no permission."""

    @classmethod
    def from_os_error(cls, location: object, error: OSError) -> IndexWriteError:
        import errno

        reason = error.strerror or str(error)
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            fix = "free some space there (or point SEEDQA_DATA_DIR at a disk with room) and run it again"
        elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            fix = ("make it writable, or point SEEDQA_DATA_DIR (seedqa --data-dir) at a folder "
                   "you can write to")
        else:
            fix = "check the disk and its permissions, then run it again"
        return cls(f"Cannot write the index at {location}: {reason}; {fix}.")


class IndexCorruptError(SeedqaError):
    """The index's files are damaged or incomplete; the message names the fix.

    `repairable`: `seedqa repair` can rebuild it from the chunks and documents it
    still holds (else only a re-ingest can).
    """

    def __init__(self, message: str, repairable: bool = False) -> None:
        super().__init__(message)
        self.repairable = repairable


class IndexReplacedError(SeedqaError):
    """The index's folder was removed or replaced while this process had it open."""

    def __init__(self, location: object) -> None:
        super().__init__(
            f"The index folder {location} was removed or replaced while seedqa was running; "
            "restart seedqa to use what is there now (or re-ingest: seedqa ingest PATH)."
        )


class ForeignCollectionError(SeedqaError):
    """SEEDQA_COLLECTION names a Chroma collection that seedqa did not build."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"The Chroma collection '{name}' was not built by seedqa; adopt it with: seedqa adopt {name}"
        )
