"""Web tools: `web_fetch` (a page as text, behind the SSRF guard) and `web_search` (only
registered when AION_SEARCH_URL names a SearXNG instance)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, Field

from services.worker.plugins.web.fetch import AddressRefused, FetchedPage, FetchError, fetch
from services.worker.plugins.web.html_text import html_to_text
from services.worker.plugins.web.search import searxng_search
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry

# What one result may carry, so it stays under the runner's cap on tool output.
RESULT_BUDGET_CHARS = 14_000
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/x-yaml"}
)


class FetchArguments(BaseModel):
    url: str = Field(min_length=1, max_length=4000, description="an http:// or https:// URL")


class SearchArguments(BaseModel):
    query: str = Field(min_length=1, max_length=500)
    max_results: int = Field(default=8, ge=1, le=20)


async def web_fetch(ctx: ToolContext, args: FetchArguments) -> dict[str, Any]:
    try:
        page = await fetch(args.url)
    except (AddressRefused, FetchError) as exc:
        raise ToolError(f"Not fetched: {exc}") from exc
    return page_result(page)


def page_result(page: FetchedPage) -> dict[str, Any]:
    """What the model gets of a page: its text (HTML made readable), title, links."""
    readable = _readable(page)
    if page.status >= 400:
        snippet = f": {readable[1][:500]}" if readable else ""
        raise ToolError(f"HTTP {page.status} from {page.url}{snippet}")
    if readable is None:
        kind = page.content_type or "the content"
        raise ToolError(f"Not fetched: {kind} is not text (web_fetch reads pages and text files)")
    title, text, links = readable
    budget = RESULT_BUDGET_CHARS - len(orjson.dumps(links)) - len(title)
    result: dict[str, Any] = {
        "url": page.url,
        "status": page.status,
        "title": title,
        "text": text[:budget],
        "truncated": page.truncated or len(text) > budget,
    }
    if links:
        result["links"] = links
    if page.redirects:
        result["redirected_from"] = page.redirects[0]
    return result


def _readable(page: FetchedPage) -> tuple[str, str, list[dict[str, str]]] | None:
    """(title, text, links), or None when the body is not text."""
    kind = page.content_type
    text = _decode(page.body, page.charset)
    looks_html = text.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))
    if kind in _HTML_TYPES or (not kind and looks_html):
        extracted = html_to_text(text, page.url)
        return extracted.title, extracted.text, extracted.links
    textual = kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))
    if (textual or not kind) and "\x00" not in text:
        return "", text, []
    return None


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


async def web_search(ctx: ToolContext, args: SearchArguments) -> dict[str, Any]:
    base_url = ctx.app.settings.aion_search_url
    if not base_url:
        raise ToolError("no search backend is configured (AION_SEARCH_URL)")
    results = await searxng_search(base_url, args.query, args.max_results)
    return {"query": args.query, "results": results}


def register(registry: ToolRegistry) -> None:
    registry.add(
        "web_fetch",
        "Fetch a web page (or a text file) by URL and read it as plain text, with its title "
        "and links. Only public internet addresses can be reached.",
        FetchArguments,
        web_fetch,
        timeout=30,
        # A page is whatever its author wrote; and the URL the model picks (query string
        # included) reaches whoever runs that server: a way out for anything in the turn.
        reads_untrusted=True,
        sends_or_persists=True,
    )
    # Offered only where a backend exists: a search tool that always fails helps no one.
    if registry.settings.aion_search_url:
        registry.add(
            "web_search",
            "Search the web; returns titles, URLs and snippets. Use web_fetch to read a result.",
            SearchArguments,
            web_search,
            timeout=20,
            # Titles and snippets come from anyone's pages; the query the model writes leaves
            # AION for the search backend and the engines behind it.
            reads_untrusted=True,
            sends_or_persists=True,
        )
