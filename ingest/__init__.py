"""Ingest: read documents, split them into chunks, embed them, write them to the index."""

from ingest.loaders import SUPPORTED
from ingest.pipeline import FileResult, Ingestor, IngestReport, ingest_paths
from seedqa.errors import IngestError, UnsupportedFileError

__all__ = [
    "SUPPORTED",
    "FileResult",
    "IngestError",
    "IngestReport",
    "Ingestor",
    "UnsupportedFileError",
    "ingest_paths",
]
