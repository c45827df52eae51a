"""A local fake of GitHub's releases API: `GET /repos/{owner}/{name}/releases/latest`.

Speaks GitHub's wire format (release objects, its 404 body, rate-limit headers). A test says
what the next answers for a repository are with `reply()` / `release()`; unknown repositories
get GitHub's 404. Every request is recorded (path and headers) so a test can tell whether the
worker asked at all.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.background_server import BackgroundServer

NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/releases/releases#get-the-latest-release",
    "status": "404",
}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # JSON, or bytes sent as text/html (a captive portal, a proxy page)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow or hung GitHub)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]


def release_object(repo: str, tag: str, notes: str = "", *, prerelease: bool = False) -> Any:
    """A release as GitHub's REST API returns it (the fields AION reads, and some it ignores)."""
    return {
        "url": f"https://api.github.com/repos/{repo}/releases/1",
        "html_url": f"https://github.com/{repo}/releases/tag/{tag}",
        "id": 1,
        "tag_name": tag,
        "target_commitish": "main",
        "name": f"AION {tag}",
        "draft": False,
        "prerelease": prerelease,
        "created_at": "2030-01-02T03:04:05Z",
        "published_at": "2030-01-02T03:04:05Z",
        "assets": [],
        "tarball_url": f"https://api.github.com/repos/{repo}/tarball/{tag}",
        "zipball_url": f"https://api.github.com/repos/{repo}/zipball/{tag}",
        "body": notes,
        "author": {"login": "octocat", "id": 1, "type": "User"},
    }


class FakeGitHub(BackgroundServer):
    server_name = "fake GitHub"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, Reply] = {}
        self._requests: list[Recorded] = []
        self.app = Starlette(routes=[Route("/repos/{owner}/{name}/releases/latest", self._latest)])

    def reply(self, repo: str, reply: Reply) -> None:
        """What `repo`'s latest-release endpoint answers from now on."""
        with self._lock:
            self._replies[repo] = reply

    def release(self, repo: str, tag: str, notes: str = "") -> None:
        self.reply(repo, Reply(200, release_object(repo, tag, notes)))

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    async def _latest(self, request: Request) -> Response:
        repo = f"{request.path_params['owner']}/{request.path_params['name']}"
        with self._lock:
            self._requests.append(Recorded(request.url.path, dict(request.headers)))
            reply = self._replies.get(repo, Reply(404, NOT_FOUND))
        if reply.delay:
            await asyncio.sleep(reply.delay)
        headers = {"x-github-api-version-selected": "2022-11-28", **reply.headers}
        if isinstance(reply.body, bytes):
            return Response(reply.body, reply.status, headers, media_type="text/html")
        return JSONResponse(reply.body, status_code=reply.status, headers=headers)
