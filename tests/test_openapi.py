"""The OpenAPI document: generated from the code, committed as docs/openapi.json, served to the
owner alone, and listing the same operations and statuses as docs/API.md's endpoint table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts import openapi as openapi_script
from tests.conftest import METRICS_TOKEN, TELEGRAM_SERVICE_TOKEN
from tests.helpers import fresh_address

API_MD = Path(__file__).resolve().parent.parent / "docs" / "API.md"
_ROW = re.compile(r"^\| ([A-Z, ]+) \| `(/[^`]*)` \|(.*)$")
_STATUS = re.compile(r"`([1-5]\d\d)[` ]")  # `404` or `202 {...}`: a status named in the text
_METHODS = {"get", "post", "put", "patch", "delete", "head"}


def _shape(path: str) -> str:
    """A path with its parameters unnamed: API.md says {id} where the code says {memory_id}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def api_md() -> tuple[dict[tuple[str, str], set[str]], set[str]]:
    """API.md's endpoint tables (the main one, console sessions, the OpenAI-compatible routes)
    as {(METHOD, path shape): statuses its row names}, and the statuses its Conventions section
    says any route may answer."""
    text = API_MD.read_text()
    conventions = text[text.index("## Conventions") : text.index("## Endpoints")]
    rows: dict[tuple[str, str], set[str]] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        methods, path, rest = match.groups()
        for method in methods.split(","):
            key = (method.strip(), _shape(path))
            assert key not in rows, f"API.md lists {key} twice"
            rows[key] = set(_STATUS.findall(rest))
    return rows, set(_STATUS.findall(conventions))


def openapi_operations(document: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    return {
        (method.upper(), _shape(path)): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in _METHODS
    }


def test_the_committed_document_is_what_the_code_generates() -> None:
    committed = openapi_script.OUTPUT.read_text()
    assert committed == openapi_script.render(openapi_script.generate()), (
        "docs/openapi.json is stale: run `python -m scripts.openapi` and commit it"
    )
    assert openapi_script.main(["--check"]) == 0
    assert json.loads(committed)["openapi"].startswith("3.1")


def test_api_md_and_the_document_list_the_same_operations_and_statuses() -> None:
    rows, conventions = api_md()
    operations = openapi_operations(json.loads(openapi_script.OUTPUT.read_text()))
    assert set(rows) == set(operations)
    assert {"400", "401", "403", "404", "413", "415", "422", "429", "500", "503"} <= conventions
    for key, documented in operations.items():
        named = rows[key]
        assert named <= documented, f"{key}: API.md names {named - documented}, OpenAPI does not"
        success = {"200", "202", "204", "206"}
        unexplained = documented - named - conventions - success
        assert not unexplained, f"{key}: OpenAPI has {unexplained}, API.md does not say them"


def test_every_error_status_has_the_one_error_shape() -> None:
    document = json.loads(openapi_script.OUTPUT.read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400 or (path, status) == ("/api/oauth/google/callback", "400"):
                    continue  # the OAuth callback answers a browser with a page
                # Under /v1 the OpenAI shape, the one the clients of those routes read.
                shape = "OpenAIErrorBody" if path.startswith("/v1/") else "ErrorBody"
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{shape}"}, (method, path)
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "detail"}


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("wrong-" + "x" * 40, 401), (TELEGRAM_SERVICE_TOKEN, 403), (METRICS_TOKEN, 403)],
)
async def test_only_the_owner_gets_the_document(
    anonymous: httpx.AsyncClient, token: str | None, status: int
) -> None:
    headers = {"X-Forwarded-For": fresh_address()}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await anonymous.get("/api/openapi.json", headers=headers)
    assert response.status_code == status
    assert "paths" not in response.text and set(response.json()) == {"error", "detail"}


async def test_the_owner_gets_the_committed_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(openapi_script.OUTPUT.read_text())
