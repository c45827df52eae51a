"""A small local web server standing in for the outside world: pages, redirects, big and
slow answers, and a SearXNG-style JSON search endpoint. Records every request it gets.
`snippets[query]` plants a text in the first search result for that query (an injected page)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

PAGE = b"""<!doctype html><html><head><title>Fake  page</title>
<style>body { color: red }</style><script>document.write("hidden script")</script></head>
<body><h1>Welcome</h1><p>Readable <b>text</b> here.</p><noscript>no script text</noscript>
<ul><li>first</li><li>second <a href="/next">next page</a></li></ul></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.owner.requests.append({"path": url.path, "host": self.headers["Host"]})
        route = getattr(self, "_" + url.path.strip("/").replace("-", "_"), None)
        try:
            if route is None:
                self._send(404, b"not here", "text/plain")
            else:
                route(query)
        except (BrokenPipeError, ConnectionResetError):
            self.server.owner.cut_off.set()  # the client hung up (a size or time limit)

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, query: dict[str, str]) -> None:
        self._send(200, PAGE, "text/html; charset=utf-8")

    def _host(self, query: dict[str, str]) -> None:
        self._send(200, (self.headers["Host"] or "").encode(), "text/plain")

    def _redirect(self, query: dict[str, str]) -> None:
        self._send(int(query.get("status", "302")), b"", "text/plain", Location=query["to"])

    def _loop(self, query: dict[str, str]) -> None:
        self._send(302, b"", "text/plain", Location="/loop")

    def _binary(self, query: dict[str, str]) -> None:
        self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")

    def _big(self, query: dict[str, str]) -> None:
        """Streams far more than anyone should read, without a length."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        line = b"x" * 1023 + b"\n"
        for _ in range(int(query.get("kib", "20000"))):
            self.wfile.write(line)

    def _slow(self, query: dict[str, str]) -> None:
        time.sleep(float(query.get("seconds", "5")))
        self._send(200, b"late", "text/plain")

    def _search(self, query: dict[str, str]) -> None:
        if query.get("format") != "json":
            self._send(403, b"forbidden", "text/html")
            return
        planted = self.server.owner.snippets.get(query["q"])
        results = [
            {
                "url": f"https://example.org/{n}",
                "title": f"{query['q']} #{n}",
                "content": planted if planted and n == 0 else "about",
            }
            for n in range(12)
        ]
        body = json.dumps({"query": query["q"], "results": results}).encode()
        self._send(200, body, "application/json")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: FakeWeb, family: socket.AddressFamily, host: str) -> None:
        self.address_family = family
        self.owner = owner
        super().__init__((host, 0), _Handler)


class FakeWeb:
    """`with FakeWeb() as web: web.url("/page")`; `tls=(cert, key)` serves HTTPS."""

    def __init__(self, host: str = "127.0.0.1", *, tls: tuple[Path, Path] | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.requests: list[dict[str, Any]] = []
        self.snippets: dict[str, str] = {}  # search query → text of its first result
        self.cut_off = threading.Event()  # a client hung up on /big
        self._server = _Server(self, family, host)
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{self.scheme}://{name}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
