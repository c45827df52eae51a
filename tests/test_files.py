"""POST/GET/DELETE /api/files end to end: the real api, the real worker and its extraction
child, real PostgreSQL; documents made in the test, good and hostile."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis

from services.api.files import clean_name
from tests import file_samples as samples
from tests.conftest import API_TOKEN
from tests.helpers import eventually
from tests.stack import Stack

pytestmark = pytest.mark.timeout(180)


async def upload(
    client: httpx.AsyncClient, name: str, content: bytes, mime: str = "application/octet-stream"
) -> httpx.Response:
    return await client.post("/api/files", files={"file": (name, content, mime)}, timeout=120)


async def uploaded(client: httpx.AsyncClient, name: str, content: bytes) -> dict[str, Any]:
    response = await upload(client, name, content)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def segments(client: httpx.AsyncClient, db: Any, file_id: str) -> list[dict[str, Any]]:
    cur = await db.execute("SELECT segments, text FROM files WHERE id = %s", (file_id,))
    row = await cur.fetchone()
    assert row is not None
    found, text = row
    assert text == "\n\n".join(s["text"] for s in found)
    return list(found)


async def test_pdf_keeps_its_pages(client: httpx.AsyncClient, db: Any) -> None:
    content = samples.pdf(["Alpha on the first page", "Beta on the second", "Gamma third"])
    # The client's Content-Type is not believed: the content says PDF.
    body = await upload(client, "report.pdf", content, "text/plain")
    assert body.status_code == 201, body.text
    answer = body.json()
    assert answer["mime"] == "application/pdf" and answer["pages"] == 3
    assert answer["size"] == len(content) and answer["status"] == "ready"
    assert answer["chars"] > len("Alpha on the first page")
    found = await segments(client, db, answer["id"])
    assert [(s["page"], s["text"]) for s in found] == [
        (1, "Alpha on the first page"),
        (2, "Beta on the second"),
        (3, "Gamma third"),
    ]

    record = (await client.get(f"/api/files/{answer['id']}")).json()
    assert record["status"] == "ready" and record["name"] == "report.pdf"
    assert record["pages"] == 3 and "content" not in record and "text" not in record

    original = await client.get(f"/api/files/{answer['id']}/content")
    assert original.status_code == 200 and original.content == content
    assert original.headers["content-type"] == "application/pdf"
    assert original.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
    assert original.headers["x-content-type-options"] == "nosniff"

    listed = (await client.get("/api/files", params={"limit": 200})).json()
    assert answer["id"] in [f["id"] for f in listed["files"]] and listed["total"] >= 1

    assert (await client.delete(f"/api/files/{answer['id']}")).json() == {"ok": True}
    assert (await client.get(f"/api/files/{answer['id']}")).status_code == 404
    assert (await client.delete(f"/api/files/{answer['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        (
            "notes.docx",
            lambda: samples.docx_file([("Intro", "alpha words"), ("Costs", "beta words")]),
            [("Intro", "Intro\nalpha words"), ("Costs", "Costs\nbeta words")],
        ),
        (
            "book.xlsx",
            lambda: samples.xlsx_file({"Budget": [["rent", 900], ["food", 300]]}),
            [("Budget", "rent\t900\nfood\t300")],
        ),
        (
            "deck.pptx",
            lambda: samples.pptx_file([("Plan", "first step")]),
            [("Plan", "Plan\nfirst step")],
        ),
        (
            "letter.odt",
            lambda: samples.odt_file([("Dear", "hello there")]),
            [("Dear", "Dear\nhello there")],
        ),
        (
            "readme.md",
            lambda: b"intro line\n\n# Setup\nrun it\n",
            [(None, "intro line"), ("Setup", "# Setup\nrun it")],
        ),
        (
            "page.html",
            lambda: (
                b"<html><head><script>evil()</script></head><body><h1>News</h1>"
                b"<p>fresh <b>text</b></p></body></html>"
            ),
            [("News", "News\nfresh text")],
        ),
        ("data.csv", lambda: b"a,b\n1,2\n", [(None, "a,b\n1,2")]),
        ("data.json", lambda: b'{"k": [1, 2]}', [(None, '{"k": [1, 2]}')]),
        ("plain", lambda: "caf\u00e9 au lait\n".encode(), [(None, "caf\u00e9 au lait")]),
    ],
)
async def test_each_format_is_read_with_its_headings(
    client: httpx.AsyncClient, db: Any, name: str, make: Any, expected: list[Any]
) -> None:
    answer = await uploaded(client, name, make())
    found = await segments(client, db, answer["id"])
    assert [(s["heading"], s["text"]) for s in found] == expected
    await client.delete(f"/api/files/{answer['id']}")


async def count_files(db: Any) -> int:
    cur = await db.execute("SELECT count(*) FROM files")
    row = await cur.fetchone()
    return int(row[0])


@pytest.mark.parametrize(
    ("name", "make", "status", "says"),
    [
        ("secret.pdf", lambda: samples.pdf(["hidden"], password="pw"), 422, "encrypted"),
        ("deep.pdf", samples.nested_pdf, 422, "PDF"),
        ("broken.pdf", lambda: samples.pdf(["a", "b"])[:300], 422, "PDF"),
        ("broken.docx", lambda: samples.docx_file([("a", "b")])[:1500], 422, "damaged"),
        (
            "bomb.docx",
            lambda: samples.zip_bomb(samples.docx_file([("a", "b")]), "word/document.xml"),
            422,
            "zip bomb",
        ),
        (
            "bomb.xlsx",
            lambda: samples.zip_bomb(samples.xlsx_file({"s": [[1]]}), "xl/worksheets/sheet1.xml"),
            422,
            "zip bomb",
        ),
        ("sheet.docx", lambda: samples.xlsx_file({"s": [[1]]}), 422, "not a Word document"),
        ("bad.json", lambda: b'{"open": [1, 2', 422, "not valid JSON"),
        ("report.docx", lambda: samples.pdf(["x"]), 415, "it is a PDF"),
        ("image.png", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 415, "not a format"),
        ("archive.zip", lambda: samples.docx_file([("a", "b")]), 415, "ZIP archive"),
        ("old.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, 415, "old"),
        ("empty.txt", lambda: b"", 415, "empty"),
    ],
)
async def test_hostile_and_unreadable_files_get_a_clear_error_and_leave_nothing(
    client: httpx.AsyncClient, db: Any, name: str, make: Any, status: int, says: str
) -> None:
    before = await count_files(db)
    response = await upload(client, name, make())
    assert response.status_code == status, response.text
    assert says in response.json()["detail"], response.json()
    assert await count_files(db) == before
    # The worker is still there and still reads files.
    answer = await uploaded(client, "after.txt", b"still working")
    assert answer["chars"] == len("still working")
    await client.delete(f"/api/files/{answer['id']}")


async def test_too_large_and_malformed_uploads(client: httpx.AsyncClient) -> None:
    big = b"x" * (20 * 1024 * 1024 + 1)
    response = await upload(client, "big.txt", big)
    assert response.status_code == 413, response.text
    assert (await client.post("/api/files", json={"file": "x"})).status_code == 415
    missing = await client.post("/api/files", files={"other": ("a.txt", b"a")})
    assert missing.status_code == 422 and "file" in missing.text
    assert (await client.get("/api/files/not..an..id")).status_code in (404, 422)
    assert (await client.get("/api/files/abcdefgh1234")).status_code == 404


async def test_a_name_cannot_climb_out_or_inject_headers(client: httpx.AsyncClient) -> None:
    answer = await uploaded(client, "../../etc/na\u00efve notes.txt", b"text")
    assert answer["name"] == "na\u00efve notes.txt"
    original = await client.get(f"/api/files/{answer['id']}/content")
    assert original.headers["content-disposition"] == (
        "attachment; filename=\"na_ve notes.txt\"; filename*=UTF-8''na%C3%AFve%20notes.txt"
    )
    await client.delete(f"/api/files/{answer['id']}")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('C:\\Users\\me\\a"b\r\nc.txt', "a_b_c.txt"),
        ("../../../etc/passwd", "passwd"),
        ("..", "file"),
        (None, "file"),
        ("x" * 300 + ".txt", "x" * 251 + ".txt"),
    ],
)
def test_clean_name(raw: str | None, clean: str) -> None:
    assert clean_name(raw) == clean


async def test_a_file_read_after_the_wait_is_answered_202_and_becomes_ready(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    """An api whose workers are all busy (here: none yet) answers 202 `pending` after
    AION_FILE_EXTRACT_WAIT_SECONDS; the file is read once a worker comes, and kept."""
    parts = urlsplit(service_env["REDIS_URL"])
    # A Redis database of its own (the web stack takes the tests' one + 2), same PostgreSQL.
    own_db = (int(parts.path.strip("/") or 0) + 14) % 16
    own_redis = urlunsplit(parts._replace(path=f"/{own_db}"))
    redis.Redis.from_url(own_redis).flushdb()
    env = {**service_env, "REDIS_URL": own_redis, "AION_FILE_EXTRACT_WAIT_SECONDS": "1"}
    own = Stack(env=env, log_dir=tmp_path)
    try:
        own.start_api()
        async with httpx.AsyncClient(
            base_url=own.api_url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
        ) as http:
            response = await upload(http, "later.md", b"# Later\nread by a worker that came late")
            assert response.status_code == 202, response.text
            pending = response.json()
            assert pending["status"] == "pending" and "chars" not in pending
            own.start_worker()

            async def read() -> bool:
                record = (await http.get(f"/api/files/{pending['id']}")).json()
                return bool(record["status"] == "ready" and record["chars"] > 0)

            await eventually(read, "the late worker to read the file", timeout=60)
            await http.delete(f"/api/files/{pending['id']}")
    finally:
        own.stop()
        redis.Redis.from_url(own_redis).flushdb()
