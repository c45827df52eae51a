"""The extraction child process: `python -m services.worker.documents.child`.

Reads one file from stdin (a JSON header line: mime and max_chars, then the bytes) and writes
one JSON line to stdout: {"segments", "pages", "truncated"} or {"error"}. The parent
(`isolation`) starts it with no secrets in its environment, under memory and CPU limits, and
kills it on timeout: whatever a hostile file does to a reader happens here, not in the worker.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import orjson

from services.worker.documents import zipguard
from services.worker.documents.collect import Collector, Unreadable
from shared import file_types

# (module in this package, function) per type: only the one reader a file needs is imported,
# so a child starts in a fraction of the time all the format libraries would take.
READERS: dict[str, tuple[str, str]] = {
    file_types.PDF: ("pdf", "read"),
    file_types.DOCX: ("office", "read_docx"),
    file_types.XLSX: ("office", "read_xlsx"),
    file_types.PPTX: ("office", "read_pptx"),
    file_types.ODT: ("odt", "read"),
    file_types.HTML: ("markup", "read_html"),
    file_types.MARKDOWN: ("markup", "read_markdown"),
    file_types.TEXT: ("markup", "read_text"),
    file_types.CSV: ("markup", "read_text"),
    file_types.JSON: ("markup", "read_json"),
}


def extract(mime: str, content: bytes, max_chars: int) -> dict[str, Any]:
    """Segments and pages of `content`; Unreadable with the reason otherwise."""
    if mime not in READERS:
        raise Unreadable(f"AION does not read {mime} files.")
    if mime in file_types.ZIPPED.values():
        zipguard.check(content, mime)
    module, function = READERS[mime]
    try:
        reader = getattr(importlib.import_module(f"services.worker.documents.{module}"), function)
        result: dict[str, Any] = reader(content, Collector(max_chars))
        return result
    except Unreadable:
        raise
    except MemoryError as exc:
        raise Unreadable("Reading the file needs more memory than AION allows.") from exc
    except RecursionError as exc:
        raise Unreadable("The file is nested too deeply to read (damaged or hostile).") from exc
    except Exception as exc:  # each library has its own errors for a damaged file
        raise Unreadable(
            f"The file is damaged or not what its name says ({type(exc).__name__}: "
            f"{str(exc)[:200]})."
        ) from exc


def main() -> None:
    header = orjson.loads(sys.stdin.buffer.readline())
    content = sys.stdin.buffer.read()
    try:
        result = extract(str(header["mime"]), content, int(header["max_chars"]))
    except Unreadable as exc:
        result = {"error": str(exc)}
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
