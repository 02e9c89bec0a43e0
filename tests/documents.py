"""Builders for test documents in every supported format, written to a folder."""

from __future__ import annotations

from pathlib import Path


def minimal_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of Helvetica text per page (no PDF library needed)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


MARKDOWN = """---
title: Harbour Report
date: 2025-03-14
---
# Harbour Report

The **harbour** of Port Elsewhere handled [4,200 containers](https://example.org) in March.

Its new crane can lift 80 tonnes.
"""

HTML = """<!doctype html><html><head><title>Lighthouse Notes</title>
<meta property="article:published_time" content="2024-07-02T10:00:00Z">
<style>body { color: red; }</style><script>var secret = "do not index me";</script></head>
<body><h1>Lighthouse Notes</h1><p>The lighthouse on Gull Rock was built in <b>1871</b>.</p>
<p>Its lamp is visible for 18 nautical miles.</p></body></html>
"""


def write_formats(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "txt": folder / "bakery.txt",
        "md": folder / "harbour.md",
        "html": folder / "lighthouse.html",
        "pdf": folder / "orchard.pdf",
    }
    files["txt"].write_text("date 2023-11-05\nBakery Ledger\n\nThe bakery on Mill Lane sold 340 loaves on Saturday.\n")
    files["md"].write_text(MARKDOWN)
    files["html"].write_text(HTML)
    files["pdf"].write_bytes(minimal_pdf([
        "The orchard has 120 apple trees.",
        "The cider press was bought in 1998.",
    ]))
    return files
