"""The OpenAPI 3.1 document, generated from the routes and their models (never written by hand).

It is served to the owner at GET /api/openapi.json (services/api/routes/openapi.py) and kept in
the repository as docs/openapi.json (`python -m scripts.openapi`), which a test holds equal to
what the code generates.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.api.access import PUBLIC
from services.api.openai_errors import is_openai_path
from services.api.schemas.events import turn_event_schemas
from services.api.schemas.notices import notice_schemas

DESCRIPTION = (
    "AION's HTTP API (docs/API.md). Every operation needs `Authorization: Bearer <token>` "
    "except the public ones, which say so. Errors have one shape: "
    '`{"error": "<ErrorClass>", "detail": "<for a person>"}`.'
)


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, made once per app (the routes do not change at run time)."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version="3.1.0",
            description=DESCRIPTION,
            routes=app.routes,
        )
        doc.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        doc["security"] = [{"bearer": []}]
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                if (method.upper(), path) in PUBLIC:
                    operation["security"] = []  # no token: rate-limited per address instead
                shape = "OpenAIErrorBody" if is_openai_path(path) else "ErrorBody"
                _one_error_shape(operation["responses"], f"#/components/schemas/{shape}")
        # The turn events the SSE routes stream, from shared/events.py.
        doc["components"]["schemas"].update(turn_event_schemas())
        # The notices GET /api/events streams, from shared/notices.py.
        doc["components"]["schemas"].update(notice_schemas())
        for fastapi_own in ("HTTPValidationError", "ValidationError"):
            doc["components"]["schemas"].pop(fastapi_own, None)
        app.openapi_schema = doc
    return app.openapi_schema


def _one_error_shape(responses: dict[str, Any], error_body: str) -> None:
    """Every error is JSON in the one shape (services/api/errors.py renders them all), also
    where FastAPI would say its own 422 body or the media type of the route's success."""
    for status, response in responses.items():
        if int(status) < 400:
            continue
        content = str(response.get("content", {}))
        if "HTTPValidationError" in content or ("ErrorBody" in content and "json" not in content):
            response["content"] = {"application/json": {"schema": {"$ref": error_body}}}
        if status == "422":
            response["description"] = "a request value that is not valid; detail names the field"
