"""Documents made in the test, good and hostile, with the formats' own libraries (or by hand
where a library refuses to write something that broken)."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx
from odfdo import Document as OdfDocument
from odfdo import Header, Paragraph
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def pdf(pages: list[str], *, password: str | None = None) -> bytes:
    """A PDF with one line of text (Helvetica) per page."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def nested_pdf(depth: int = 200_000) -> bytes:
    """A PDF whose catalog holds arrays nested `depth` deep (a parser-stack attack)."""
    deep = b"[" * depth + b"]" * depth
    body = (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Deep " + deep + b" >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    )
    xref = len(body)
    return body + (
        b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n"
        + f"{body.index(b'2 0 obj'):010d} 00000 n \n".encode()
        + b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n"
        + str(xref).encode()
        + b"\n%%EOF\n"
    )


def docx_file(sections: list[tuple[str, str]]) -> bytes:
    """(heading, paragraph) pairs."""
    document = docx.Document()
    for heading, text in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_file(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def pptx_file(slides: list[tuple[str, str]]) -> bytes:
    presentation = pptx.Presentation()
    layout = presentation.slide_layouts[1]  # title and content
    for title, body in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def odt_file(sections: list[tuple[str, str]]) -> bytes:
    document = OdfDocument("text")
    for heading, text in sections:
        document.body.append(Header(1, heading))
        document.body.append(Paragraph(text))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb(good: bytes, member: str, unpacked_mb: int = 300) -> bytes:
    """`good` (a DOCX or XLSX) with one member swapped for `unpacked_mb` MiB of zeros, which
    deflate to about a thousandth of that."""
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename != member:
                bomb.writestr(info, source.read(info.filename))
        with bomb.open(member, "w", force_zip64=True) as stream:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                stream.write(chunk)
    return out.getvalue()
