"""The web console's files, served at / on the api's own port (same origin: no CORS, and the
session cookie is SameSite=Strict).

Built from console/ by `make console` into AION_CONSOLE_DIR. A path that is no file is a
client-side route of the console and gets index.html. Every answer carries a strict
Content-Security-Policy: scripts, styles and fonts from this origin only, no inline code, no eval.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.access import is_console

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Vite names built assets by content hash: they never change under their name.
_IMMUTABLE = b"public, max-age=31536000, immutable"
NOT_BUILT = "The web console is not built: run `make console` (needs Node.js 20 and npm).\n"


class Console:
    """Router fallback: the console for its paths, the router's own 404 for everything else."""

    def __init__(self, root: Path, not_found: ASGIApp) -> None:
        self._root = root
        self._files = StaticFiles(directory=root, check_dir=False)
        self._not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_console(scope["method"], scope["path"]):
            await self._not_found(scope, receive, send)
            return
        response = await self._response(scope)
        immutable = scope["path"].startswith("/assets/") and response.status_code == 200

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message["headers"] if h[0] != b"cache-control"]
                cache = _IMMUTABLE if immutable else b"no-cache"
                message["headers"] = [*headers, *_SECURITY_HEADERS, (b"cache-control", cache)]
            await send(message)

        await response(scope, receive, with_headers)

    async def _response(self, scope: Scope) -> Response:
        index = self._root / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=503)
        relative = scope["path"].lstrip("/")
        if relative and not relative.endswith("/"):
            try:
                return await self._files.get_response(relative, scope)
            except HTTPException as exc:
                last = relative.rsplit("/", 1)[-1]
                if exc.status_code != 404 or "." in last or relative.startswith("assets/"):
                    raise  # a missing asset is a 404, not the page
        return FileResponse(index, media_type="text/html")
