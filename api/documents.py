"""/v1/documents: list, upload (multipart) and ingest, read, remove.

Uploads keep the chat's rules (ui/app.py): the types seedqa reads, at most
SEEDQA_MAX_FILE_MB each and SEEDQA_MAX_UPLOAD_FILES at once, stored under
names seedqa generates in SEEDQA_DATA_DIR/uploads (ui/uploads.py), so the chat
and the API see and name the same uploads. A request with a file of the wrong
type, or too large, or too many files, adds nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, File, UploadFile

from api.errors import APIError
from api.models import (ERRORS, DocumentOut, DocumentsOut, DocumentText, RemovedOut, UploadedFile,
                        UploadOut, document_id)
from seedqa.errors import DocumentNotFoundError, IndexNotReadyError, SeedqaError
from seedqa.settings import Settings
from ui import render
from ui.app import UPLOAD_TYPES
from ui.uploads import UploadFolder

if TYPE_CHECKING:
    from qa import Assistant
    from qa import DocumentRecord


def documents_router(assistant: Assistant, settings: Settings) -> APIRouter:
    uploads = UploadFolder(Path(settings.data_dir) / "uploads")  # the chat's: one for both
    router = APIRouter(tags=["documents"], responses=ERRORS)

    def described(record: DocumentRecord) -> DocumentOut:
        return DocumentOut(id=document_id(record.source), name=uploads.name(record.source),
                           source=record.source, title=record.title, date=record.date,
                           chunks=record.chunks, chars=record.chars,
                           ingested_at=record.ingested_at)

    def find(doc_id: str) -> DocumentRecord:
        for record in assistant.documents():
            if doc_id in (document_id(record.source), record.source):
                return record
        raise DocumentNotFoundError(f"No indexed document has the id {doc_id!r}; "
                                    "GET /v1/documents lists them.")

    @router.get("/v1/documents", response_model=DocumentsOut, summary="List the indexed documents")
    def listing() -> DocumentsOut:
        try:
            records = assistant.documents()
        except IndexNotReadyError:  # no index yet: the first upload makes one
            records = []
        return DocumentsOut(documents=[described(r) for r in records])

    @router.get("/v1/documents/{doc_id}", response_model=DocumentText,
                summary="One document, with its full text")
    def one(doc_id: str) -> DocumentText:
        record = find(doc_id)
        return DocumentText(**described(record).model_dump(),
                            text=assistant.document_text(record.source))

    @router.delete("/v1/documents/{doc_id}", response_model=RemovedOut, summary="Remove a document")
    def remove(doc_id: str) -> RemovedOut:
        record = find(doc_id)
        chunks = assistant.remove_document(record.source)
        uploads.forget(record.source)
        return RemovedOut(id=document_id(record.source), source=record.source, chunks_removed=chunks)

    @router.post("/v1/documents", response_model=UploadOut, status_code=201,
                 summary="Upload files and ingest them (answerable at once)")
    def upload(files: Annotated[list[UploadFile], File(
            description=f"the files ({', '.join(UPLOAD_TYPES)}), as multipart field `files`")]
               ) -> UploadOut:
        check_upload(files, settings)
        staged = []
        for file in files:
            name = Path(file.filename or "upload").name
            target = uploads.place(name, Path(name).suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                shutil.copyfileobj(file.file, out)
            staged.append(target)
        try:
            report = assistant.add_documents(staged)
        except SeedqaError:  # a full or read-only disk, a busy index: keep nothing half-added
            indexed = {record.source for record in assistant.documents()}
            for target in staged:
                if str(target.resolve()) not in indexed:
                    uploads.forget(target)
            raise
        results = []
        for result in report.files:
            name = uploads.name(result.source)  # cleaned as the chat shows it (ui/security.py)
            message = (result.message or "").replace(Path(result.source).name, name)
            failed = result.status in ("failed", "skipped")
            if failed:
                uploads.forget(result.source)
            results.append(UploadedFile(name=name, status="failed" if failed else result.status,
                                        chunks=result.chunks, message=message,
                                        id=None if failed else document_id(result.source)))
        if results and all(r.status == "failed" for r in results):
            raise APIError(422, "Nothing was added: " + " ".join(r.message or f"{r.name}: failed"
                                                                 for r in results), "ingest_error")
        return UploadOut(files=results)

    return router


def check_upload(files: list[UploadFile], settings: Settings) -> None:
    """The chat's limits: count, type and size, checked before anything is stored."""
    if not files:
        raise APIError(400, "No files in the request; send them as multipart field `files`.")
    if len(files) > settings.max_upload_files:
        raise APIError(413, f"{len(files)} files at once is over the limit of "
                            f"{settings.max_upload_files} (SEEDQA_MAX_UPLOAD_FILES); nothing was added.")
    limit = settings.max_file_mb * 1e6
    for file in files:
        name = Path(file.filename or "upload").name
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_TYPES:
            raise APIError(415, f"{name}: seedqa reads {', '.join(UPLOAD_TYPES)} files, not "
                                f"'{suffix or 'no extension'}'; nothing was added.")
        size = file.size if file.size is not None else _size(file)
        if size > limit:
            raise APIError(413, f"{name}: {render.size(size)} is over the {render.size(limit)} "
                                "limit per file (SEEDQA_MAX_FILE_MB); nothing was added.")


def _size(file: UploadFile) -> int:
    file.file.seek(0, 2)
    size = file.file.tell()
    file.file.seek(0)
    return size
