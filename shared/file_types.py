"""Which files AION reads, decided from their first bytes and their name, never from the
Content-Type a client claims. The api sniffs (415 when unsupported); the worker's readers are
picked by the MIME type decided here.

Content wins where it is unambiguous: a PDF is a PDF whatever its name. A ZIP archive is read
only as the Office/OpenDocument format its extension names (the worker checks the archive really
is one). Text-like files are told apart by extension (.md, .csv, .json, .html), else plain text.
A name that promises one known format over content of another is refused with both named.
"""

from __future__ import annotations

import codecs
from pathlib import PurePath

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"
CSV = "text/csv"
JSON = "application/json"

ZIPPED = {".docx": DOCX, ".xlsx": XLSX, ".pptx": PPTX, ".odt": ODT}
TEXTUAL = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".csv": CSV,
    ".json": JSON,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".txt": TEXT,
    ".text": TEXT,
    ".log": TEXT,
}
SUPPORTED = "PDF, DOCX, XLSX, PPTX, ODT, HTML, Markdown, text, CSV and JSON"
# How much of the start of a file the sniffing looks at.
SNIFF_BYTES = 8192

_LABEL = {
    PDF: "a PDF",
    DOCX: "a Word document",
    XLSX: "an Excel workbook",
    PPTX: "a PowerPoint presentation",
    ODT: "an OpenDocument text",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls/.ppt before 2007
_ZIP = b"PK\x03\x04"


class UnsupportedFile(ValueError):
    """Not a format AION reads (the api answers 415 with this text)."""


def extension(name: str) -> str:
    return PurePath(name).suffix.lower()


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # the sample may end inside a character
        return True
    except UnicodeDecodeError:
        # Not UTF-8: still text (a legacy code page) when control characters are rare.
        controls = sum(1 for b in head if b < 32 and b not in b"\t\n\r\f")
        return controls <= len(head) // 100


def _textual(ext: str, head: bytes) -> str:
    if ext in TEXTUAL:
        return TEXTUAL[ext]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return HTML if start.startswith((b"<!doctype html", b"<html")) else TEXT


def sniff(name: str, head: bytes) -> str:
    """The MIME type of a file named `name` starting with `head`; UnsupportedFile otherwise."""
    ext = extension(name)
    claimed = {**ZIPPED, ".pdf": PDF}.get(ext)
    if not head:
        raise UnsupportedFile("The file is empty.")
    if b"%PDF-" in head[:1024]:
        found = PDF
    elif head.startswith(_ZIP):
        if ext not in ZIPPED:
            raise UnsupportedFile(
                f"'{name}' is a ZIP archive; AION reads {SUPPORTED} (a ZIP only as DOCX, "
                "XLSX, PPTX or ODT)."
            )
        return ZIPPED[ext]
    elif head.startswith(_OLE):
        raise UnsupportedFile(
            f"'{name}' is in an old binary Office format (.doc/.xls/.ppt); save it as "
            ".docx, .xlsx or .pptx and send it again."
        )
    elif _looks_like_text(head):
        if claimed is not None:
            raise UnsupportedFile(f"'{name}' is named {ext} but its content is plain text.")
        return _textual(ext, head)
    else:
        raise UnsupportedFile(f"'{name}' is not a format AION reads ({SUPPORTED}).")
    if claimed is not None and claimed != found:
        raise UnsupportedFile(
            f"'{name}' is named {ext} but it is {_LABEL[found]}: rename it and send it again."
        )
    return found
