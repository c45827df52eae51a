"""Checks a ZIP-based document (DOCX, XLSX, PPTX, ODT) before any library opens it: a zip bomb
is refused from its central directory alone, and the archive must be the format its name says."""

from __future__ import annotations

import io
import zipfile

from services.worker.documents.collect import Unreadable
from shared import file_types

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# A member may unpack to at most MAX_RATIO times its packed size (Apache POI's ZipSecureFile uses
# the same: a minimum inflate ratio of 0.01), once it unpacks to more than RATIO_FROM_BYTES.
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000

# A member each format must have (ODT: its `mimetype` member says which OpenDocument it is).
_REQUIRED = {
    file_types.DOCX: ("word/document.xml", "a Word document"),
    file_types.XLSX: ("xl/workbook.xml", "an Excel workbook"),
    file_types.PPTX: ("ppt/presentation.xml", "a PowerPoint presentation"),
    file_types.ODT: ("mimetype", "an OpenDocument text"),
}


def check(content: bytes, mime: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Unreadable(f"The file is damaged: its ZIP structure cannot be read ({exc}).") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise Unreadable(f"The archive has more than {MAX_MEMBERS} parts; it is refused.")
        unpacked = 0
        for member in members:
            unpacked += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
                raise Unreadable(
                    f"The file looks like a zip bomb: '{member.filename[:100]}' would unpack "
                    f"to {ratio:.0f} times its size."
                )
        if unpacked > MAX_UNPACKED_BYTES:
            raise Unreadable(
                f"The file would unpack to {unpacked // 2**20} MiB, more than the "
                f"{MAX_UNPACKED_BYTES // 2**20} MiB allowed."
            )
        required, label = _REQUIRED[mime]
        names = {m.filename for m in members}
        if required not in names:
            raise Unreadable(f"The file is not {label} (or it is damaged).")
        if mime == file_types.ODT:
            declared = archive.read("mimetype")[:200].decode("ascii", "replace").strip()
            if declared != file_types.ODT:
                raise Unreadable(f"The file is not an OpenDocument text (it says {declared!r}).")
