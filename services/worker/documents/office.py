"""Word, Excel and PowerPoint (python-docx, openpyxl, python-pptx): headings kept where the
format has them (Word heading styles, sheet names, slide titles); slides count as pages.
The archive has passed `zipguard` before any of these opens it."""

from __future__ import annotations

import io
from typing import Any

import docx
import openpyxl
import pptx
from docx.table import Table
from docx.text.paragraph import Paragraph

from services.worker.documents.collect import Collector


def read_docx(content: bytes, out: Collector) -> dict[str, Any]:
    document = docx.Document(io.BytesIO(content))
    heading: str | None = None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if out.full:
            break
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            if style.startswith(("Heading", "Title")) and block.text.strip():
                out.add("\n".join(lines), heading=heading)
                heading, lines = block.text.strip(), [block.text.strip()]
                continue
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                lines.append("\t".join(cell.text for cell in row.cells))
    out.add("\n".join(lines), heading=heading)
    return out.result(None)


def read_xlsx(content: bytes, out: Collector) -> dict[str, Any]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            lines: list[str] = []
            size = 0
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if v is None else str(v) for v in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    line = "\t".join(cells)
                    lines.append(line)
                    size += len(line) + 1
                if out.chars + size > out.max_chars:
                    break  # the rest would be cut anyway
            out.add("\n".join(lines), heading=sheet.title)
            if out.full:
                break
    finally:
        workbook.close()
    return out.result(None)


def read_pptx(content: bytes, out: Collector) -> dict[str, Any]:
    presentation = pptx.Presentation(io.BytesIO(content))
    slides = list(presentation.slides)
    for number, slide in enumerate(slides, start=1):
        if out.full:
            break
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text if title_shape is not None else None
        texts = [
            shape.text_frame.text
            for shape in slide.shapes
            if shape.has_text_frame and shape.text_frame.text.strip()
        ]
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            texts.append(slide.notes_slide.notes_text_frame.text)
        out.add("\n".join(texts), page=number, heading=title)
    return out.result(len(slides))
