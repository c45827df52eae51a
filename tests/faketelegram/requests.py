"""Reading a Bot API request's parameters: query string, JSON, form-urlencoded or multipart.

Multipart is parsed with the standard library's email parser so the fake needs no extra
dependency (starlette's form parser wants python-multipart).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from tests.faketelegram.state import Upload
from tests.faketelegram.wire import decode_param


class BadRequest(ValueError):
    """The body could not be read at all."""


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadRequest("multipart body without parts")
    params: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        params_ = dict(part.get_params(header="content-disposition") or [])
        name = params_.get("name")
        if not name or "form-data" not in disposition:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            uploads[name] = Upload(data, filename, part.get_content_type())
            params[name] = data
        else:
            charset = part.get_content_charset() or "utf-8"
            params[name] = decode_param(name, data.decode(charset))
    return params, uploads


async def read_params(request: Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """All parameters of a request, typed, and the uploaded files by part name."""
    params: dict[str, Any] = {k: decode_param(k, v) for k, v in request.query_params.items()}
    uploads: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if not body:
        return params, uploads
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BadRequest("can't parse JSON") from exc
        if not isinstance(data, dict):
            raise BadRequest("JSON body is not an object")
        params.update(data)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        for k, v in parse_qsl(body.decode(), keep_blank_values=True):
            params[k] = decode_param(k, v)
    elif content_type.startswith("multipart/form-data"):
        form, uploads = _multipart(content_type, body)
        params.update(form)
    return params, uploads
