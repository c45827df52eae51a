"""PDF: one segment per page with its number (pypdf). An owner password-less encryption
(permissions only) is opened; a real password is not guessed."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from services.worker.documents.collect import Collector, Unreadable


def read(content: bytes, out: Collector) -> dict[str, Any]:
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("The PDF is encrypted with a password; send it without one.")
        pages = reader.pages
        count = len(pages)
        for number, page in enumerate(pages, start=1):
            if out.full:
                break
            out.add(page.extract_text() or "", page=number)
    except FileNotDecryptedError as exc:
        raise Unreadable("The PDF is encrypted with a password; send it without one.") from exc
    except PdfReadError as exc:
        raise Unreadable(f"The PDF is damaged and cannot be read ({exc}).") from exc
    if not out.segments:
        raise Unreadable("The PDF has no text layer (a scan?); AION does not read text in images.")
    return out.result(count)
