"""Read a file into plain text plus metadata (title, date, page starts).

Each format has one small function; `load` picks by file extension. Every
failure a user can cause (empty, binary, undecodable, too large, no text
layer) raises `IngestError` with a message that says what to do.
"""

from __future__ import annotations

import codecs
import re
import stat
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from ingest.html_text import html_text
from seedqa.errors import IngestError, UnsupportedFileError
from seedqa.text import sentences

SUPPORTED = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
             ".html": "html", ".htm": "html", ".pdf": "pdf"}


@dataclass(frozen=True)
class LoadedDocument:
    source: str
    text: str
    title: str
    date: str | None = None
    page_starts: tuple[int, ...] = ()  # PDF: character offset where each page begins
    note: str | None = None  # e.g. which encoding a text file was decoded with


def load(path: Path, max_bytes: int) -> LoadedDocument:
    info = path.stat()  # follows links: a link loop raises OSError (ELOOP) here
    if not stat.S_ISREG(info.st_mode):
        # Reading a pipe or a device would block or never end.
        raise IngestError(f"{path.name}: not a regular file (a pipe, socket or device); "
                          "seedqa reads ordinary files")
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise UnsupportedFileError(
            f"{path.name}: unsupported file type '{path.suffix or '(none)'}'; "
            f"seedqa reads {', '.join(sorted(set(SUPPORTED)))}"
        )
    if info.st_size > max_bytes:
        raise _too_large(path, info.st_size, max_bytes)
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)  # the file may have grown since `stat`
    if len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    if kind == "pdf":
        document = _load_pdf(path, data)
    else:
        raw, note = _decode(path, data)
        loader = {"text": _load_text, "markdown": _load_markdown, "html": _load_html}[kind]
        document = replace(loader(path, raw), note=note)
    if not document.text.strip():
        raise IngestError(f"{path.name}: no text in this file (it is empty or only markup)")
    _check_prose(path, document.text)
    return document


# Prose has spaces: runs of 60+ printable ASCII characters without one are base64,
# hex, minified code or a data dump. A file over 64 kB that is mostly such runs is
# refused: its chunks would match nothing a person asks, yet cost as much to embed
# as real text (an 8 MB base64 blob is 12,000 chunks, six minutes here).
_LONG_TOKEN = re.compile(r"(?<!\S)[!-~]{60,}(?!\S)")
_PROSE_CHECK_CHARS = 64_000


def _check_prose(path: Path, text: str) -> None:
    if len(text) <= _PROSE_CHECK_CHARS:
        return
    long = sum(match.end() - match.start() for match in _LONG_TOKEN.finditer(text))
    if long > 0.5 * len(text):
        raise IngestError(
            f"{path.name}: this is not prose: {long / len(text):.0%} of its text is runs of 60 or "
            "more characters without a space (base64, hex, minified code or a data dump?); "
            "seedqa indexes readable text, so convert or extract the text first"
        )


def _too_large(path: Path, size: int, max_bytes: int) -> IngestError:
    return IngestError(
        f"{path.name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit; "
        "raise SEEDQA_MAX_FILE_MB to ingest it"
    )


# --- decoding -----------------------------------------------------------------

def _decode(path: Path, data: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (with or without BOM) or UTF-16 with BOM; else say why not."""
    if not data.strip():
        raise IngestError(f"{path.name}: the file is empty")
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _clean(data.decode(encoding, errors="strict")), None
    if b"\x00" in data[:8192]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return _clean(utf16), "decoded as UTF-16 without a byte-order mark"
        raise IngestError(f"{path.name}: this looks like a binary file, not text")
    try:
        return _clean(data.decode("utf-8")), None
    except UnicodeDecodeError as error:
        return _decode_legacy(path, data, error)


def _utf16_without_bom(data: bytes) -> str | None:
    """Text saved as UTF-16 without a BOM has a zero byte in every other place (for
    Latin script); decode it when it does, else None (a binary file)."""
    sample = data[:8192]
    if len(sample) < 8 or len(data) % 2:
        return None
    for encoding, zeros in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text[:4096])
            return text if printable >= 0.95 * min(len(text), 4096) else None
    return None


def _decode_legacy(path: Path, data: bytes, error: UnicodeDecodeError) -> tuple[str, str]:
    """Not UTF-8: Windows-1252 when every byte is defined there (the usual legacy case,
    and guessers misread short Western texts), otherwise the best-guessed encoding."""
    hint = "; if characters look wrong, convert the file to UTF-8"
    try:
        return _clean(data.decode("cp1252")), f"decoded as cp1252 (not UTF-8){hint}"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        raise IngestError(
            f"{path.name}: not valid UTF-8 (byte {error.start}) and no other text encoding "
            "fits; convert it to UTF-8 first"
        )
    return _clean(str(best)), f"decoded as {best.encoding} (not UTF-8){hint}"


# Control characters (C0, DEL and C1) are not text; tabs and newlines are.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]+")


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)  # one regex pass: a per-character loop took seconds on 50 MB


# --- dates and titles -----------------------------------------------------------

_DATE_LINE = re.compile(
    r"\A\s*(?:date|published|updated)\s*[:=]?\s*"
    r"(\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+\.? \d{1,2}, \d{4})[ \t]*\n?[ \t]*",
    re.IGNORECASE,
)
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%b. %d, %Y")


def parse_date(value: str) -> str | None:
    """ISO date (YYYY-MM-DD) from a few common spellings, or None."""
    value = value.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def split_date_header(text: str) -> tuple[str | None, str]:
    """A leading "date 2026-01-27" line becomes metadata and leaves the text."""
    match = _DATE_LINE.match(text)
    if match:
        parsed = parse_date(match.group(1))
        if parsed:
            return parsed, text[match.end() :]
    return None, text


def _title_from_text(text: str, path: Path) -> str:
    """A short first line on its own is a title; otherwise the opening words."""
    first_line = text.strip().split("\n", 1)[0].strip()
    if first_line and len(first_line) <= 100 and first_line[-1] not in ".!?,;:":
        return first_line
    spans = sentences(text[:2000])  # the opening is enough; all of a 50 MB text is not
    if not spans:
        return path.stem
    words = text[spans[0][0] : spans[0][1]].split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")


# --- formats ------------------------------------------------------------------------

def _load_text(path: Path, raw: str) -> LoadedDocument:
    stated_date, text = split_date_header(raw)
    text = text.strip()
    return LoadedDocument(str(path), text, _title_from_text(text, path), stated_date)


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


def _load_markdown(path: Path, raw: str) -> LoadedDocument:
    meta = {}
    front = _FRONT_MATTER.match(raw)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            meta[key.strip().lower()] = value.strip().strip("'\"")
        raw = raw[front.end() :]
    stated_date, raw = split_date_header(raw)
    text = _markdown_to_text(raw).strip()
    heading = re.search(r"^#\s+(.+)$", raw, re.MULTILINE)
    title = meta.get("title") or (heading.group(1).strip() if heading else _title_from_text(text, path))
    stated_date = parse_date(meta["date"]) if meta.get("date") else stated_date
    return LoadedDocument(str(path), text, title, stated_date)


def _markdown_to_text(raw: str) -> str:
    """The text a reader sees, one block (paragraph, heading, item, code) per paragraph.

    Parsed with markdown-it (CommonMark) rather than patterns: reference links,
    nested emphasis and `snake_case_words` come out as written.
    """
    from markdown_it import MarkdownIt

    blocks = []
    for token in MarkdownIt("commonmark").enable("table").parse(raw):
        if token.type == "inline":
            blocks.append("".join(_inline_text(child) for child in token.children or ()))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
        elif token.type == "html_block":
            blocks.append(_strip_html(token.content))
    return "\n\n".join(block.strip() for block in blocks if block.strip())


def _inline_text(token) -> str:
    if token.type in ("text", "code_inline"):
        return token.content
    if token.type in ("softbreak", "hardbreak"):
        return "\n"
    if token.type == "image":  # its alt text
        return "".join(_inline_text(child) for child in token.children or ())
    return ""  # emphasis and link marks (their text comes as tokens of its own), inline HTML


def _strip_html(block: str) -> str:
    """Embedded HTML: script and style blocks go whole (their code is not text), tags go."""
    block = re.sub(r"<(script|style)\b.*?</\1\s*>", "", block, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"<[^>]+>", "", block)


def _without_blocks(text: str, tags: tuple[str, ...]) -> str:
    """`text` without its `<tag ...> ... </tag>` blocks, found by one forward scan."""
    kept, at, search, left = [], 0, 0, set(tags)
    while left:
        found = re.compile(r"<(%s)\b" % "|".join(sorted(left)), re.IGNORECASE).search(text, search)
        if not found:
            break
        tag = found.group(1).lower()
        close = re.compile(r"</%s\s*>" % tag, re.IGNORECASE).search(text, found.end())
        if not close:  # none after this opening, so none after a later one: stop looking
            left.discard(tag)
            search = found.end()
            continue
        kept.append(text[at : found.start()])
        at = search = close.end()
    kept.append(text[at:])
    return "".join(kept)


def _load_html(path: Path, raw: str) -> LoadedDocument:
    page = html_text(raw)  # one linear pass, no tree: deep nesting costs nothing extra
    title = page.title or page.heading
    stated_date = next(filter(None, map(parse_date, page.dates)), None)
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", page.text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    header_date, text = split_date_header(text)
    return LoadedDocument(str(path), text, title or _title_from_text(text, path),
                          stated_date or header_date)


def _short(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def _load_pdf(path: Path, data: bytes) -> LoadedDocument:
    import io

    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every oddity of a damaged file; the failure, if any, is reported once.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(f"{path.name}: the PDF is encrypted; save an unlocked copy first")
        pages = [_clean(page.extract_text() or "").strip() for page in reader.pages]
        info_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise IngestError(f"{path.name}: not a readable PDF ({_short(error)})") from error
    except (Exception, RecursionError) as error:  # pypdf raises many more on hostile files
        raise IngestError(f"{path.name}: could not read: not a readable PDF "
                          f"({type(error).__name__}: {_short(error)})") from error
    if not any(pages):
        raise IngestError(
            f"{path.name}: the PDF has no text layer (a scan?); run OCR on it first"
        )
    stated_date, pages[0] = split_date_header(pages[0])
    text, starts = "", []
    for page in pages:
        starts.append(len(text))
        text += page + "\n\n"
    title = str(info_title).strip() if info_title else _title_from_text(text, path)
    return LoadedDocument(str(path), text.rstrip(), title, stated_date, tuple(starts))
