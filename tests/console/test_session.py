"""Console sessions: the token traded for an HttpOnly cookie, the cookie accepted on every /api
route, same-origin required for anything but GET/HEAD, sign-out revoking it everywhere."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from services.api.throttle import FREE_FAILURES
from tests.conftest import API_TOKEN, TELEGRAM_SERVICE_TOKEN
from tests.console.conftest import PUBLIC_URL
from tests.frontdoor.test_gate import answer_to_headers
from tests.helpers import fresh_address
from tests.stack import Service, Stack


def cookie_of(response: httpx.Response) -> dict[str, str]:
    """The attributes of the aion_session Set-Cookie (names lower-cased; flags map to "")."""
    header = response.headers["set-cookie"]
    name_value, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = name_value.partition("=")
    assert name == "aion_session"
    parsed = {"value": value}
    for attribute in attributes:
        key, _, val = attribute.partition("=")
        parsed[key.lower()] = val
    return parsed


async def sign_in(
    http: httpx.AsyncClient, token: str = API_TOKEN, **headers: str
) -> httpx.Response:
    return await http.post("/api/session", json={"token": token}, headers=headers)


@pytest.fixture
async def browser(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client from an address of its own that keeps cookies, like a browser."""
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers={"X-Forwarded-For": fresh_address()}, timeout=10.0
    ) as http:
        yield http


def own_origin(stack: Stack) -> str:
    return stack.api_url  # the Host httpx sends is 127.0.0.1:<port>


async def test_a_wrong_token_is_401_and_the_right_one_sets_a_strict_httponly_cookie(
    browser: httpx.AsyncClient,
) -> None:
    wrong = await sign_in(browser, "not-the-token-" + "x" * 30)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "Unauthorized"
    assert "set-cookie" not in wrong.headers
    right = await sign_in(browser)
    assert right.status_code == 204
    cookie = cookie_of(right)
    assert len(cookie["value"]) >= 40
    assert cookie["httponly"] == ""
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(7 * 86400)
    assert "secure" not in cookie  # plain http here


async def test_the_cookie_opens_api_routes_and_a_missing_or_unknown_one_does_not(
    browser: httpx.AsyncClient,
) -> None:
    assert (await browser.get("/api/channels")).status_code == 401
    assert (await sign_in(browser)).status_code == 204
    assert (await browser.get("/api/channels")).status_code == 200
    assert (await browser.get("/api/config")).status_code == 200
    browser.cookies.set("aion_session", "made-up-session-id")
    refused = await browser.get("/api/channels")
    assert refused.status_code == 401
    assert "sign in again" in refused.json()["detail"]


async def test_redis_keeps_only_a_hash_of_the_session_with_its_lifetime(
    browser: httpx.AsyncClient, redis_url: str
) -> None:
    session = cookie_of(await sign_in(browser))["value"]
    client = aioredis.from_url(redis_url)
    try:
        key = "aion:session:" + hashlib.sha256(session.encode()).hexdigest()
        assert 7 * 86400 - 60 < await client.ttl(key) <= 7 * 86400
        assert not [k async for k in client.scan_iter(match=f"*{session}*")]
        await client.delete(key)  # what expiry does
    finally:
        await client.aclose()
    assert (await browser.get("/api/channels")).status_code == 401


async def test_a_cookie_request_that_changes_something_needs_the_servers_own_origin(
    browser: httpx.AsyncClient, stack: Stack, channel: str
) -> None:
    assert (await sign_in(browser)).status_code == 204
    body = {"channel": channel}
    missing = await browser.post("/api/reset", json=body)
    assert missing.status_code == 403
    assert missing.json()["error"] == "Forbidden"
    foreign = await browser.post(
        "/api/reset", json=body, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    other_port = await browser.post(
        "/api/reset", json=body, headers={"Origin": "http://127.0.0.1:1"}
    )
    assert other_port.status_code == 403
    ours = await browser.post("/api/reset", json=body, headers={"Origin": own_origin(stack)})
    assert ours.status_code == 200, ours.text
    # GET and HEAD need no Origin (an <audio src> or a link sends none).
    assert (await browser.get("/api/channels")).status_code == 200


async def test_the_bearer_header_needs_no_origin(client: httpx.AsyncClient, channel: str) -> None:
    response = await client.post(
        "/api/reset", json={"channel": channel}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 200


async def test_sign_out_revokes_the_session_and_clears_the_cookie(
    browser: httpx.AsyncClient, stack: Stack
) -> None:
    session = cookie_of(await sign_in(browser))["value"]
    assert (await browser.delete("/api/session")).status_code == 403  # no Origin: refused
    assert (await browser.get("/api/channels")).status_code == 200
    out = await browser.delete("/api/session", headers={"Origin": own_origin(stack)})
    assert out.status_code == 204
    cleared = cookie_of(out)
    assert cleared["value"] in ("", '""') and cleared["max-age"] == "0"
    # The old cookie, replayed (say, copied before sign-out), opens nothing any more.
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10.0) as replay:
        replay.cookies.set("aion_session", session)
        assert (await replay.get("/api/channels")).status_code == 401


async def test_repeated_wrong_sign_ins_back_off_and_block_before_the_body_is_read(
    browser: httpx.AsyncClient, stack: Stack
) -> None:
    address = browser.headers["X-Forwarded-For"]
    statuses = [
        (await sign_in(browser, f"wrong-{n}-" + "x" * 30)).status_code
        for n in range(FREE_FAILURES + 1)
    ]
    assert statuses == [401] * (FREE_FAILURES + 1)
    blocked = await sign_in(browser)  # even the right token: the address is blocked
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    head = (
        "POST /api/session HTTP/1.1\r\nHost: aion\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100000\r\nX-Forwarded-For: {address}\r\n\r\n"
    )
    status, headers = await answer_to_headers(stack.api_url, head)
    assert status == 429 and "retry-after" in headers
    # Another address is not affected.
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10.0) as other:
        assert (await sign_in(other, **{"X-Forwarded-For": fresh_address()})).status_code == 204


async def test_only_the_owners_token_opens_a_session(browser: httpx.AsyncClient) -> None:
    response = await sign_in(browser, TELEGRAM_SERVICE_TOKEN)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_no_sign_in_from_another_sites_page(browser: httpx.AsyncClient) -> None:
    response = await sign_in(browser, Origin="https://evil.example")
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_https_behind_a_trusted_proxy_makes_the_cookie_secure(
    browser: httpx.AsyncClient, stack: Stack
) -> None:
    response = await sign_in(browser, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 204
    cookie = cookie_of(response)
    assert "secure" in cookie
    # ... and its own origin is then the https one (the cookie sent by hand: httpx keeps a
    # Secure cookie off plain http).
    host = stack.api_url.removeprefix("http://")
    headers = {"X-Forwarded-Proto": "https", "Cookie": f"aion_session={cookie['value']}"}
    for origin, status in ((f"https://{host}", 200), (f"http://{host}", 403)):
        answer = await browser.post(
            "/api/reset", json={"channel": "web-https"}, headers={**headers, "Origin": origin}
        )
        assert answer.status_code == status, (origin, answer.text)


async def test_audio_plays_from_the_cookie(tts: Stack, browser: httpx.AsyncClient) -> None:
    from tests.conftest import TTS_AUTH

    async with httpx.AsyncClient(base_url=tts.tts_url, headers=TTS_AUTH, timeout=60) as speech:
        made = await speech.post(
            "/synthesize", json={"text": "Hello there.", "format": "wav", "engine": "espeak"}
        )
        assert made.status_code == 200, made.text
    url = f"/api/audio/{made.json()['file']}"
    assert (await browser.get(url)).status_code == 401
    assert (await sign_in(browser)).status_code == 204
    response = await browser.get(url, headers={"Range": "bytes=0-3"})
    assert response.status_code == 206
    assert response.content == b"RIFF"


async def test_the_public_url_is_an_allowed_origin_and_makes_the_cookie_secure(
    public_api: tuple[Service, Path],
) -> None:
    api, _ = public_api
    async with httpx.AsyncClient(
        base_url=api.url, headers={"X-Forwarded-For": fresh_address()}, timeout=10.0
    ) as http:
        # Sent to the public URL's host: the proxy terminated TLS without saying so.
        response = await sign_in(http, Host="aion.example.com")
        cookie = cookie_of(response)
        assert "secure" in cookie
        assert cookie["max-age"] == str(2 * 86400)
        # httpx keeps a Secure cookie off plain http: send it by hand, as a browser behind
        # the owner's https proxy would.
        headers = {"Cookie": f"aion_session={cookie['value']}"}
        body = {"channel": "web-public"}
        ok = await http.post("/api/reset", json=body, headers={**headers, "Origin": PUBLIC_URL})
        assert ok.status_code == 200, ok.text
        other = await http.post(
            "/api/reset", json=body, headers={**headers, "Origin": "https://aion.example.org"}
        )
        assert other.status_code == 403
        # Straight to the api's own address (no proxy): an http cookie, or it would be lost.
        assert "secure" not in cookie_of(await sign_in(http))
