"""Builders for hostile test files: the XSS PDF, a PDF with a chosen /Title, big odd texts."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from benchmarks.hostile_inputs import base64_blob, many_lines, nested_html, one_line  # noqa: F401
from tests.documents import minimal_pdf

HOSTILE = Path(__file__).parent / "data" / "hostile"
CRASH_PDFS = sorted(HOSTILE.glob("crash_*.pdf"))  # pypdf raised what the loader did not catch


def xss_pdf() -> bytes:
    """/work/shared/hostile/make_xss_pdf.py as a function: a content stream whose
    /DecodeParms /Columns is a string holding an <svg> with a javascript: link, which
    pypdf repeats in its error text."""
    stream = zlib.compress(b"BT /F1 12 Tf 72 720 Td (x) Tj ET")
    payload = (b'(<svg width="400" height="60"><a href="javascript:window.__pwned=7;'
               b"document.title='PWNED';void 0\"><text x=\"0\" y=\"40\" font-size=\"30\">"
               b"Click to retry the upload</text></a></svg>)")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns " % len(stream)
        + payload + b" >> >>\nstream\n" + stream + b"\nendstream",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def titled_pdf(title: str, text: str) -> bytes:
    """A one-page PDF whose document info /Title is `title` (escape codes and all)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf([text]))))
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
