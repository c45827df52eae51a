"""Web search through the owner's SearXNG instance (its JSON API), when one is configured.

The backend is the owner's own configuration, so it is called directly, not through the
SSRF guard (it usually lives on the private network, next to AION).
"""

from __future__ import annotations

from typing import Any

import httpx

from services.worker.tools.registry import ToolError

SEARCH_TIMEOUT_SECONDS = 15.0


async def searxng_search(
    base_url: str,
    query: str,
    max_results: int,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[dict[str, str]]:
    """The first `max_results` results as {title, url, snippet}."""
    async with httpx.AsyncClient(transport=transport, timeout=SEARCH_TIMEOUT_SECONDS) as client:
        try:
            response = await client.get(
                base_url.rstrip("/") + "/search", params={"q": query, "format": "json"}
            )
        except httpx.HTTPError as exc:
            raise ToolError(f"the search backend is not reachable: {exc}") from exc
    if response.status_code == 403:
        raise ToolError("the search backend refused JSON (SearXNG: add `json` to search.formats)")
    if response.status_code != 200:
        raise ToolError(f"the search backend answered HTTP {response.status_code}")
    try:
        body: Any = response.json()
    except ValueError as exc:
        raise ToolError("the search backend did not answer with JSON") from exc
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise ToolError("the search backend's answer has no result list")
    found: list[dict[str, str]] = []
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        found.append(
            {
                "title": str(item.get("title") or ""),
                "url": item["url"],
                "snippet": str(item.get("content") or "")[:500],
            }
        )
        if len(found) >= max_results:
            break
    return found
