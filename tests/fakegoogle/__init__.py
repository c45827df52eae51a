"""Local fake of Google's OAuth token endpoint (`POST /token`, form-encoded, as Google's).

Authorization codes are exchanged for a fresh refresh token, refresh tokens for an access
token; a wrong client gets `invalid_client`, an unknown code or refresh token `invalid_grant`.
Every request's form is recorded, so a test can check the PKCE verifier.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any
from urllib.parse import parse_qsl

import orjson

from tests.fakeanthropic.server import ThreadedServer

CLIENT_ID = "fake-client.apps.googleusercontent.com"
CLIENT_SECRET = "fake-google-client-secret"
GOOD_CODE = "4/good-code"


class FakeGoogleApp:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.refresh_tokens: set[str] = set()
        self.access_tokens: list[str] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = dict(parse_qsl(body.decode()))
        with self._lock:
            self.requests.append(form)
            status, answer = self._answer(scope["path"], form)
        payload = orjson.dumps(answer)
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path != "/token":
            return 404, {"error": "not_found"}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") == GOOD_CODE:
            if not form.get("code_verifier"):
                return 400, {"error": "invalid_grant", "error_description": "Missing verifier"}
            refresh = "1//refresh-" + secrets.token_hex(8)
            self.refresh_tokens.add(refresh)
            return 200, {
                "access_token": "ya29.first-" + secrets.token_hex(4),
                "expires_in": 3599,
                "refresh_token": refresh,
                "scope": "https://www.googleapis.com/auth/cloud-platform",
                "token_type": "Bearer",
            }
        if grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            access = "ya29.access-" + secrets.token_hex(6)
            self.access_tokens.append(access)
            return 200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"}
        return 400, {"error": "invalid_grant", "error_description": "Bad Request"}


class FakeGoogle(ThreadedServer):
    app: FakeGoogleApp

    def __init__(self) -> None:
        super().__init__(FakeGoogleApp())

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"
