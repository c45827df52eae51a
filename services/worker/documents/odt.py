"""OpenDocument text (odfdo): headings and paragraphs in reading order, a segment per heading."""

from __future__ import annotations

import io
from typing import Any

from odfdo import Document

from services.worker.documents.collect import Collector


def read(content: bytes, out: Collector) -> dict[str, Any]:
    document = Document(io.BytesIO(content))
    heading: str | None = None
    lines: list[str] = []
    for block in document.body.get_elements("//text:h | //text:p"):
        if out.full:
            break
        text = str(block.text_recursive or "")
        if block.tag == "text:h" and text.strip():
            out.add("\n".join(lines), heading=heading)
            heading, lines = text.strip(), [text.strip()]
        else:
            lines.append(text)
    out.add("\n".join(lines), heading=heading)
    return out.result(None)
