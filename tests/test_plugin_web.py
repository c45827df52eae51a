"""The web plugin: the SSRF guard (pure), the fetcher against a local server with an injected
resolver and policy, and web_fetch / web_search end to end through a real worker."""

from __future__ import annotations

import functools
import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from services.worker.plugins.web import page_result
from services.worker.plugins.web import register as register_web
from services.worker.plugins.web.fetch import (
    FetchedPage,
    FetchError,
    FetchLimits,
    direct_transport,
    fetch,
)
from services.worker.plugins.web.guard import (
    AddressRefused,
    IPAddress,
    Resolver,
    is_blocked_address,
    system_resolver,
    vet_host,
)
from services.worker.plugins.web.html_text import html_to_text
from services.worker.settings import WorkerSettings
from services.worker.tools.registry import ToolError, ToolRegistry
from tests.fakeweb import FakeWeb
from tests.plugin_helpers import run_tool
from tests.web_stack import stack_with_search

LOOPBACK = ipaddress.ip_address("127.0.0.1")

BLOCKED = [
    "127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::", "169.254.169.254", "169.254.1.1",
    "fe80::1", "10.0.0.5", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
    "100.127.255.254", "224.0.0.1", "239.255.255.250", "ff02::1", "240.0.0.1",
    "255.255.255.255", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",
    "fc00::1", "fd12:3456::1", "fec0::1", "2001:db8::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:192.168.0.1", "::127.0.0.1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1", "100::1",
]  # fmt: skip
ALLOWED = [
    "93.184.215.14", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]  # fmt: skip


@pytest.mark.parametrize("address", BLOCKED)
def test_internal_addresses_are_blocked(address: str) -> None:
    assert is_blocked_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_blocked_address(ipaddress.ip_address(address))


def resolver_for(names: dict[str, list[str]]) -> Resolver:
    """A resolver for test names only (a real lookup never happens)."""

    async def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in names:
            raise AddressRefused(f"test resolver: unknown name {host!r}")
        return [ipaddress.ip_address(a) for a in names[host]]

    return resolve


def allow_only_loopback(address: IPAddress) -> bool:
    """The default policy, except for exactly 127.0.0.1 (where the fake web listens)."""
    return address != LOOPBACK and is_blocked_address(address)


def local_fetch(
    names: dict[str, list[str]], transport: Callable[[], httpx.AsyncBaseTransport] | None = None
) -> Callable[..., Awaitable[FetchedPage]]:
    """`fetch` with test names resolved, 127.0.0.1 allowed, and loopback-only connections."""
    return functools.partial(
        fetch,
        resolver=resolver_for(names),
        is_blocked=allow_only_loopback,
        transport=transport or LoopbackOnly,
    )


class LoopbackOnly(httpx.AsyncBaseTransport):
    """Connects to 127.0.0.0/8 only: a guard bug fails the test instead of sending a packet
    anywhere else."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or direct_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = ipaddress.ip_address(request.url.host)
        assert host.version == 4 and host.is_loopback, f"the guard let {request.url} through"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        yield server


async def test_vet_host_checks_every_address_a_name_has() -> None:
    names = {
        "public.test": ["93.184.215.14"],
        "inside.test": ["10.1.2.3"],
        "mixed.test": ["93.184.215.14", "192.168.0.10"],
        "mapped.test": ["::ffff:127.0.0.1"],
        "empty.test": [],
    }
    resolve = resolver_for(names)
    vet = functools.partial(vet_host, resolver=resolve, is_blocked=is_blocked_address)
    assert [str(a) for a in await vet("public.test", 80)] == ["93.184.215.14"]
    for name in ("inside.test", "mixed.test", "mapped.test", "empty.test"):
        with pytest.raises(AddressRefused):
            await vet(name, 80)
    with pytest.raises(AddressRefused, match="internal"):
        await vet("169.254.169.254", 80)
    # The real resolver: `localhost` is a name for a loopback address.
    with pytest.raises(AddressRefused, match="localhost"):
        await vet_host("localhost", 80, resolver=system_resolver, is_blocked=is_blocked_address)


async def test_default_policy_refuses_local_servers_before_connecting(web: FakeWeb) -> None:
    port = web.port
    for url in (
        web.url("/page"),
        f"http://[::1]:{port}/page",
        f"http://localhost:{port}/page",
        f"http://2130706433:{port}/page",  # 127.0.0.1 as one number
        f"http://[::ffff:127.0.0.1]:{port}/page",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.20.30.40/",
    ):
        with pytest.raises(AddressRefused):
            await fetch(url, transport=LoopbackOnly)
    assert web.requests == []


async def test_fetch_reads_a_page_through_the_pinned_address(web: FakeWeb) -> None:
    resolve = resolver_for({"site.test": ["127.0.0.1"]})
    page = await fetch(
        web.url("/page", host="site.test"),
        resolver=resolve,
        is_blocked=allow_only_loopback,
        transport=LoopbackOnly,
    )
    result = page_result(page)
    assert result["title"] == "Fake page"
    assert "Welcome" in result["text"] and "Readable text here." in result["text"]
    assert "hidden script" not in result["text"] and "color" not in result["text"]
    assert "no script text" not in result["text"]
    assert {"text": "next page", "url": web.url("/next", host="site.test")} in result["links"]
    assert web.requests[-1] == {"path": "/page", "host": f"site.test:{web.port}"}


async def test_the_next_vetted_address_is_tried_when_one_refuses(web: FakeWeb) -> None:
    nothing_there = ipaddress.ip_address("127.0.0.2")  # loopback too, but no server on it
    page = await fetch(
        web.url("/page", host="dual.test"),
        resolver=resolver_for({"dual.test": ["127.0.0.2", "127.0.0.1"]}),
        is_blocked=lambda a: a != nothing_there and allow_only_loopback(a),
        transport=LoopbackOnly,
    )
    assert page.status == 200 and web.requests[-1]["host"] == f"dual.test:{web.port}"


async def test_every_redirect_hop_is_checked(web: FakeWeb) -> None:
    names = {"site.test": ["127.0.0.1"], "inside.test": ["10.9.8.7"], "v6.test": ["::1"]}
    get = local_fetch(names)
    start = web.url("/redirect?to=", host="site.test")
    for target in (
        "http://inside.test/admin",  # a name that resolves to a private address
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://v6.test/",
        "http://[::ffff:a9fe:a9fe]/",
    ):
        with pytest.raises(AddressRefused):
            await get(start + quote(target, safe=""))
    for target in ("file:///etc/passwd", "ftp://site.test/x", "gopher://site.test/"):
        with pytest.raises(FetchError, match="only http"):
            await get(start + quote(target, safe=""))
    with pytest.raises(FetchError, match="redirects"):
        await get(web.url("/loop", host="site.test"))
    # A permitted redirect is followed, relative Locations included.
    page = await get(web.url("/redirect?status=307&to=/page", host="site.test"))
    assert page.url.endswith("/page") and page.redirects == [
        web.url("/redirect?status=307&to=/page", host="site.test")
    ]


async def test_size_and_time_limits(web: FakeWeb) -> None:
    get = local_fetch({"site.test": ["127.0.0.1"]})
    started = time.monotonic()
    page = await get(web.url("/big", host="site.test"), limits=FetchLimits(max_bytes=100_000))
    assert page.truncated and len(page.body) == 100_000
    assert time.monotonic() - started < 5
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"within 0\.5 s"):
        await get(
            web.url("/slow?seconds=3", host="site.test"), limits=FetchLimits(timeout_seconds=0.5)
        )
    assert time.monotonic() - started < 2
    with pytest.raises(ToolError, match="image/png is not text"):
        page_result(await get(web.url("/binary", host="site.test")))
    with pytest.raises(ToolError, match="HTTP 404"):
        page_result(await get(web.url("/missing", host="site.test")))
    for bad in ("http://user:pw@site.test/", "javascript:alert(1)", "http:///nohost", "not a url"):
        with pytest.raises(FetchError):
            await get(bad)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for `secure.test` signed by it (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=AION test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "site.key", "-out", "site.csr",
            "-subj", "/CN=secure.test")  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=DNS:secure.test\n")
    openssl("x509", "-req", "-in", "site.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "site.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return d / "ca.pem", d / "site.pem", d / "site.key"


async def test_https_keeps_the_name_for_sni_and_certificate_checks(
    tls_files: tuple[Path, Path, Path],
) -> None:
    ca, cert, key = tls_files
    trust = ssl.create_default_context(cafile=str(ca))
    names = {"secure.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    get = local_fetch(names, lambda: LoopbackOnly(httpx.AsyncHTTPTransport(verify=trust)))
    with FakeWeb(tls=(cert, key)) as secure:
        page = await get(secure.url("/host", host="secure.test"))
        assert page.body.decode() == f"secure.test:{secure.port}"
        # Same address, another name: its certificate does not match, so no page.
        with pytest.raises(FetchError, match=r"(?i)certificate"):
            await get(secure.url("/host", host="other.test"))


def test_html_to_text_keeps_pre_blocks_and_drops_non_text() -> None:
    page = html_to_text(
        "<title>T</title><p>a<br>b</p><pre>  x = 1\n    y</pre><svg><text>no</text></svg>"
        "<template>nope</template><p>caf&eacute; &amp; more</p>",
        "http://e.test/",
    )
    assert page.title == "T"
    assert page.text == "a\nb\n\n  x = 1\n    y\n\ncafé & more"


def test_web_search_is_registered_only_with_a_backend() -> None:
    plain = ToolRegistry("web", WorkerSettings(aion_search_url=None))
    register_web(plain)
    assert [t.name for t in plain.tools] == ["web_fetch"]
    configured = ToolRegistry("web", WorkerSettings(aion_search_url="http://searxng:8080"))
    register_web(configured)
    assert [t.name for t in configured.tools] == ["web_fetch", "web_search"]


# --- end to end, through a real worker -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/page",
        "http://[::1]:{port}/page",
        "http://localhost:{port}/page",  # a name that resolves to loopback
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
    ],
)
async def test_web_fetch_refuses_internal_addresses_end_to_end(
    client: httpx.AsyncClient, channel: str, web: FakeWeb, url: str
) -> None:
    before = len(web.requests)
    result = await run_tool(client, channel, "web_fetch", url=url.format(port=web.port))
    assert result["ok"] is False
    assert "internal address" in result["result"], result
    assert len(web.requests) == before  # nothing reached the local server


async def test_web_fetch_reports_bad_urls_end_to_end(
    client: httpx.AsyncClient, channel: str
) -> None:
    result = await run_tool(client, channel, "web_fetch", url="file:///etc/passwd")
    assert result["ok"] is False and "only http" in result["result"]


@pytest.fixture
async def search_stack(
    service_env: dict[str, str], web: FakeWeb, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with stack_with_search(service_env, web.url(""), tmp_path) as http:
        yield http


async def test_web_search_through_the_configured_backend(
    search_stack: httpx.AsyncClient, channel: str, web: FakeWeb
) -> None:
    result = await run_tool(search_stack, channel, "web_search", query="aion agents", max_results=3)
    assert result["ok"] is True, result
    assert result["result"]["results"] == [
        {"title": f"aion agents #{n}", "url": f"https://example.org/{n}", "snippet": "about"}
        for n in range(3)
    ]
    assert web.requests[-1]["path"] == "/search"


async def test_without_a_backend_there_is_no_search_tool(
    client: httpx.AsyncClient, channel: str
) -> None:
    result = await run_tool(client, channel, "web_search", query="anything")
    assert result["ok"] is False and "web_search" in result["result"]
