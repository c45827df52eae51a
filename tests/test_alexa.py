"""POST /api/alexa end to end: Amazon's request verification, and commands as turns on `alexa`.

Amazon is the outside world here, so it is faked (tests/fake_amazon.py): a CA made in the test
and a certificate server for s3.amazonaws.com. The api gets them the only way it can, through
`create_app(alexa_trust=...)`: it runs in this process (uvicorn in a thread, on a real port)
against the real worker process, Redis and PostgreSQL of the test stack. No setting of the api
points it at a test CA or turns a check off; the stack's own api process uses Amazon's trust.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from services.api.alexa import skill, speech, voice
from services.api.alexa.replies import ASK_AGAIN
from services.api.main import create_app
from services.api.settings import ApiSettings
from shared.approval_words import ALEXA_CHANNEL
from shared.telegram import BACKGROUND_TURNS_CHANNEL, BackgroundTurn
from tests import fake_amazon as amazon
from tests.conftest import API_TOKEN
from tests.fake_amazon import FakeAmazon
from tests.fakellm import FakeLLM
from tests.helpers import history
from tests.stack import InProcessApi, Stack
from tests.test_agent import call, of_type
from tests.test_approvals import approve

Database = psycopg.AsyncConnection[tuple[object, ...]]

SKILL_ID = f"amzn1.ask.skill.{uuid.uuid4()}"
ANSWER_SECONDS = 3.0
HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@pytest.fixture(scope="module")
def fake_amazon() -> FakeAmazon:
    return FakeAmazon()


@pytest.fixture(scope="module")
def alexa_api(stack: Stack, fake_amazon: FakeAmazon) -> Iterator[InProcessApi]:
    settings = ApiSettings(
        database_url=stack.env["DATABASE_URL"],
        redis_url=stack.env["REDIS_URL"],
        aion_api_token=SecretStr(API_TOKEN),
        aion_model=stack.env["AION_MODEL"],
        alexa_skill_id=SKILL_ID,
        aion_alexa_answer_seconds=ANSWER_SECONDS,
        # Every request here comes from loopback; the public rate limit has tests of its own.
        aion_public_rate_limit=100_000,
    )
    with InProcessApi(create_app(settings, alexa_trust=fake_amazon.trust())) as api:
        yield api


@pytest.fixture
async def alexa(alexa_api: InProcessApi, ensure_worker: Stack):
    async with httpx.AsyncClient(base_url=alexa_api.url, timeout=30.0) as http:
        yield http


async def post_signed(
    http: httpx.AsyncClient,
    fake: FakeAmazon,
    body: dict[str, Any] | bytes,
    *,
    cert_url: str | None = amazon.CERT_URL,
    key: rsa.RSAPrivateKey | None = None,
    signature: str | None = None,
    signed_body: bytes | None = None,
) -> httpx.Response:
    """Send `body` the way Alexa does: signed by the echo-api key, with its certificate URL."""
    raw = body if isinstance(body, bytes) else amazon.encode(body)
    headers = dict(HEADERS)
    if cert_url is not None:
        headers["SignatureCertChainUrl"] = cert_url
    if signature is None:
        signature = amazon.sign(key or fake.key, signed_body if signed_body is not None else raw)
    if signature:
        headers["Signature-256"] = signature
    return await http.post("/api/alexa", content=raw, headers=headers)


def command(text: str, **options: Any) -> dict[str, Any]:
    return amazon.envelope(SKILL_ID, amazon.intent("AionCommandIntent", command=text), **options)


async def wait_for_answer(client: httpx.AsyncClient, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            m["role"] == "assistant" and text in m["content"]
            for m in await history(client, ALEXA_CHANNEL)
        ):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} never reached the alexa history")


def spoken_text(response: httpx.Response) -> str:
    ssml = response.json()["response"]["outputSpeech"]["ssml"]
    assert ssml.startswith("<speak>") and ssml.endswith("</speak>")
    return str(ssml[len("<speak>") : -len("</speak>")])


# --- answered requests -------------------------------------------------------------------------


async def test_one_shot_command_is_a_turn_on_the_alexa_channel(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, client: httpx.AsyncClient
) -> None:
    marker = uuid.uuid4().hex[:8]
    words = f"fish & <b>chips</b> {marker}"
    response = await post_signed(alexa, fake_amazon, command(words))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == "1.0"
    # The fake model answers "You said: <words>": Markdown/HTML gone, `&` escaped for SSML.
    assert spoken_text(response) == f"You said: fish &amp; chips {marker}."
    card = body["response"]["card"]
    assert card == {
        "type": "Simple",
        "title": "AION",
        "content": f"You said: fish & chips {marker}",
    }
    assert body["response"]["shouldEndSession"] is True
    assert "reprompt" not in body["response"]

    stored = [(m["role"], m["content"]) for m in await history(client, ALEXA_CHANNEL)]
    assert ("user", words) in stored
    assert ("assistant", f"You said: {words}") in stored


async def test_command_in_a_conversation_keeps_the_session_open(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon
) -> None:
    marker = uuid.uuid4().hex[:8]
    response = await post_signed(alexa, fake_amazon, command(f"and then {marker}", new=False))
    assert response.status_code == 200, response.text
    body = response.json()["response"]
    assert marker in spoken_text(response)
    assert body["shouldEndSession"] is False
    assert body["reprompt"]["outputSpeech"]["ssml"] == speech.ssml(ASK_AGAIN)


# --- approvals: decided by voice only for a call read out in full, in the same session --------


def escaped(text: str) -> str:
    """`text` as the SSML carries it."""
    return speech.ssml(text)[len("<speak>") : -len("</speak>")]


async def approval_row(db: Database, marker: str) -> tuple[str, str, str | None]:
    """(id, status, decided_via) of the alexa approval whose arguments hold `marker`."""
    cur = await db.execute(
        """SELECT id, status, decided_via FROM approvals
           WHERE channel = 'alexa' AND args->>'text' LIKE %s""",
        (f"%{marker}%",),
    )
    (row,) = await cur.fetchall()
    return str(row[0]), str(row[1]), None if row[2] is None else str(row[2])


async def test_short_arguments_are_read_out_and_a_yes_in_the_session_approves_them(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, db: Database
) -> None:
    marker = uuid.uuid4().hex[:8]
    args = f"water the plants & the <roses> {marker}"
    risky = call("risky", {"text": args})
    response = await post_signed(alexa, fake_amazon, command(f"[[{risky}]]"))
    assert response.status_code == 200, response.text
    body = response.json()
    # Every argument is read out, escaped for SSML; the card shows the call as stored.
    asked = voice.ASK.format(tool="risky", args=f"text: {args}")
    assert spoken_text(response).endswith(escaped(asked)), spoken_text(response)
    assert "&amp; the &lt;roses&gt;" in spoken_text(response)
    assert body["response"]["shouldEndSession"] is False  # the answer comes in this session
    assert body["response"]["reprompt"]["outputSpeech"]["ssml"] == speech.ssml(voice.ASK_REPROMPT)
    approval_id, status, _ = await approval_row(db, marker)
    assert status == "pending"
    assert body["sessionAttributes"] == {voice.SESSION_KEY: {"id": approval_id, "one_shot": True}}
    card = body["response"]["card"]["content"]
    assert "Approval needed: risky" in card and args in card and approval_id in card

    # A word Alexa did not catch repeats the question and keeps it for the answer.
    unclear = amazon.envelope(
        SKILL_ID,
        amazon.intent("AMAZON.FallbackIntent"),
        new=False,
        attributes=body["sessionAttributes"],
    )
    response = await post_signed(alexa, fake_amazon, unclear)
    assert spoken_text(response) == escaped(voice.ASK_REPROMPT)
    assert response.json()["sessionAttributes"] == body["sessionAttributes"]

    # Alexa sends the attributes back with the owner's next words in that session.
    yes = command("Yes.", new=False, attributes=body["sessionAttributes"])
    response = await post_signed(alexa, fake_amazon, yes)
    assert response.status_code == 200, response.text
    assert "did:water the plants" in spoken_text(response) and marker in spoken_text(response)
    assert response.json()["response"]["shouldEndSession"] is True  # it was asked in one go
    assert response.json()["sessionAttributes"] == {}  # nothing left to answer
    assert (await approval_row(db, marker))[1:] == ("approved", voice.DECIDED_VIA)


async def test_a_no_in_the_session_denies_and_a_decided_approval_is_not_decided_again(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, client: httpx.AsyncClient, db: Database
) -> None:
    marker = uuid.uuid4().hex[:8]
    risky = call("risky", {"text": marker})
    response = await post_signed(alexa, fake_amazon, command(f"[[{risky}]]", new=False))
    attributes = response.json()["sessionAttributes"]
    response = await post_signed(
        alexa, fake_amazon, command("no", new=False, attributes=attributes)
    )
    assert "declined" in spoken_text(response) and f"did:{marker}" not in spoken_text(response)
    assert response.json()["response"]["shouldEndSession"] is False  # a conversation goes on
    assert (await approval_row(db, marker))[1] == "denied"

    # The same session's id again (decided already, elsewhere or here): nothing happens.
    response = await post_signed(
        alexa, fake_amazon, command("yes", new=False, attributes=attributes)
    )
    assert spoken_text(response) == escaped(voice.GONE)
    assert (await approval_row(db, marker))[1] == "denied"
    contents = [m["content"] for m in await history(client, ALEXA_CHANNEL)]
    assert not any(f"did:{marker}" in c for c in contents)


async def test_a_yes_outside_the_asking_session_decides_nothing(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, client: httpx.AsyncClient, db: Database
) -> None:
    marker = uuid.uuid4().hex[:8]
    response = await post_signed(
        alexa, fake_amazon, command(f"[[{call('risky', {'text': marker})}]]", new=False)
    )
    attributes = response.json()["sessionAttributes"]
    approval_id = attributes[voice.SESSION_KEY]["id"]

    # The very next words on the channel, but in a new session (no attributes): a "yes" there
    # is a chat message like any other.
    response = await post_signed(alexa, fake_amazon, command("yes"))
    assert spoken_text(response) == "You said: yes."
    assert (await approval_row(db, marker))[1] == "pending"
    # Something else said in the asking session passes the question over.
    response = await post_signed(
        alexa, fake_amazon, command("what time is it", new=False, attributes=attributes)
    )
    assert spoken_text(response) == "You said: what time is it."
    assert response.json()["sessionAttributes"] == {}
    assert (await approval_row(db, marker))[1] == "pending"

    events = await approve(client, approval_id)  # still decidable where it can be read
    assert of_type(events, "tool_result")[0]["result"] == f"did:{marker}"


async def test_long_arguments_are_not_offered_for_a_spoken_yes(
    alexa: httpx.AsyncClient,
    fake_amazon: FakeAmazon,
    client: httpx.AsyncClient,
    db: Database,
    redis_url: str,
) -> None:
    marker = uuid.uuid4().hex[:8]
    args = f"{marker} " + "all of this must be read before it runs " * 10
    assert len(args) > voice.MAX_SPOKEN_ARGS_CHARS
    risky = call("risky", {"text": args})
    async with background_turns(redis_url) as announced:
        response = await post_signed(alexa, fake_amazon, command(f"[[{risky}]]", new=False))
        assert response.status_code == 200, response.text
        turn = await next_announcement(announced)
    body = response.json()
    said = spoken_text(response)
    assert said.endswith(escaped(voice.ELSEWHERE.format(tool="risky"))), said
    assert marker not in said  # nothing of the arguments is offered to the ear
    assert "sessionAttributes" not in body
    assert body["response"]["shouldEndSession"] is False  # a conversation goes on
    approval_id, status, _ = await approval_row(db, marker)
    assert status == "pending"
    card = body["response"]["card"]["content"]
    assert args in card and approval_id in card  # the whole call
    # The owner's Telegram chat gets the turn, with its approval buttons.
    assert (turn.channel, turn.to_owner) == (ALEXA_CHANNEL, True)

    # A "yes" now is an ordinary message: nothing runs, the approval waits.
    response = await post_signed(alexa, fake_amazon, command("yes", new=False))
    assert spoken_text(response) == "You said: yes."
    assert (await approval_row(db, marker))[1] == "pending"
    events = await approve(client, approval_id)
    assert of_type(events, "tool_result")[0]["result"] == f"did:{args}"


@asynccontextmanager
async def background_turns(redis_url: str) -> AsyncIterator[PubSub]:
    """Listening to the turns the api announces to the telegram service."""
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(BACKGROUND_TURNS_CHANNEL)
        yield pubsub
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def next_announcement(pubsub: PubSub, timeout: float = 10.0) -> BackgroundTurn:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message is not None:
            return BackgroundTurn.model_validate_json(message["data"])
    raise AssertionError("no background turn was announced")


@pytest.mark.parametrize(
    ("request_body", "says", "ends"),
    [
        (amazon.launch(), skill.WELCOME, False),
        (amazon.intent("AMAZON.HelpIntent"), skill.HELP, False),
        (amazon.intent("AMAZON.FallbackIntent"), skill.FALLBACK, False),
        (amazon.intent("AionCommandIntent"), skill.REPROMPT, False),  # no command heard
        (amazon.intent("AMAZON.StopIntent"), skill.GOODBYE, True),
        (amazon.intent("AMAZON.CancelIntent"), skill.GOODBYE, True),
    ],
    ids=["launch", "help", "fallback", "empty-command", "stop", "cancel"],
)
async def test_built_in_requests(
    alexa: httpx.AsyncClient,
    fake_amazon: FakeAmazon,
    fake_llm: FakeLLM,
    request_body: dict[str, Any],
    says: str,
    ends: bool,
) -> None:
    before = len(fake_llm.requests)
    response = await post_signed(alexa, fake_amazon, amazon.envelope(SKILL_ID, request_body))
    assert response.status_code == 200, response.text
    body = response.json()["response"]
    assert spoken_text(response) == speech.ssml(says)[len("<speak>") : -len("</speak>")]
    assert body["shouldEndSession"] is ends
    assert ("reprompt" in body) is (not ends)
    assert len(fake_llm.requests) == before  # nothing for the model to do


async def test_session_ended_gets_an_empty_response(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon
) -> None:
    response = await post_signed(
        alexa,
        fake_amazon,
        amazon.envelope(SKILL_ID, amazon.session_ended("EXCEEDED_MAX_REPROMPTS")),
    )
    assert response.status_code == 200
    assert response.json() == {"version": "1.0", "response": {"shouldEndSession": True}}


async def test_slow_turn_says_still_working_and_finishes_in_the_background(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, client: httpx.AsyncClient
) -> None:
    marker = f"slow {uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    response = await post_signed(alexa, fake_amazon, command(f"{marker} [[first=5000]]"))
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert spoken_text(response) == skill.STILL_WORKING.replace("'", "&apos;")
    assert response.json()["response"]["shouldEndSession"] is True
    assert ANSWER_SECONDS - 0.1 <= elapsed < ANSWER_SECONDS + 1.5, elapsed
    assert not any(
        marker in m["content"] and m["role"] == "assistant"
        for m in await history(client, ALEXA_CHANNEL)
    )
    await wait_for_answer(client, f"You said: {marker}")


async def test_the_certificate_chain_is_fetched_once_per_url(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon
) -> None:
    for _ in range(3):
        response = await post_signed(alexa, fake_amazon, amazon.envelope(SKILL_ID, amazon.launch()))
        assert response.status_code == 200
    assert fake_amazon.s3.requests.count(amazon.CERT_URL) == 1


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert-12.pem",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert-12.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-12.pem",
        "https://s3.amazonaws.com/echo.api/./echo-api-cert-12.pem",
    ],
)
async def test_certificate_urls_amazon_calls_valid(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, cert_url: str
) -> None:
    response = await post_signed(
        alexa, fake_amazon, amazon.envelope(SKILL_ID, amazon.launch()), cert_url=cert_url
    )
    assert response.status_code == 200, response.text


async def test_spellings_of_one_certificate_url_share_one_fetch(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon
) -> None:
    """The cache is keyed on the normalised URL; a query or fragment is dropped, never fetched."""
    launch = amazon.envelope(SKILL_ID, amazon.launch())
    assert (await post_signed(alexa, fake_amazon, launch)).status_code == 200  # cached now
    before = list(fake_amazon.s3.requests)
    for cert_url in [
        f"{amazon.CERT_URL}?x=1",
        f"{amazon.CERT_URL}?x=2",
        f"{amazon.CERT_URL}?versionId=older#fragment",
        "HTTPS://S3.AmazonAWS.com:443/echo.api/./echo-api-cert-12.pem?x=3",
        "https://s3.amazonaws.com/echo.api/../echo.api/%65cho-api-cert-12.pem",
    ]:
        launch = amazon.envelope(SKILL_ID, amazon.launch())
        response = await post_signed(alexa, fake_amazon, launch, cert_url=cert_url)
        assert response.status_code == 200, (cert_url, response.text)
    assert fake_amazon.s3.requests == before


CHEAP_REFUSALS: list[tuple[str, Any, str]] = [
    ("stale", lambda: command("late", offset_seconds=-151), "away from now"),
    ("from-the-future", lambda: command("early", offset_seconds=200), "away from now"),
    (
        "wrong-skill",
        lambda: amazon.envelope("amzn1.ask.skill.other", amazon.launch()),
        "not the configured ALEXA_SKILL_ID",
    ),
    ("not-an-alexa-body", lambda: {"hello": "world"}, "not an Alexa request"),
]


@pytest.mark.parametrize(
    ("case", "body", "reason"), CHEAP_REFUSALS, ids=[r[0] for r in CHEAP_REFUSALS]
)
async def test_cheap_checks_refuse_before_any_certificate_is_fetched(
    alexa: httpx.AsyncClient,
    fake_amazon: FakeAmazon,
    caplog: pytest.LogCaptureFixture,
    case: str,
    body: Any,
    reason: str,
) -> None:
    """A certificate URL nobody fetched yet, on a request that fails a check costing nothing."""
    cert_url = f"https://s3.amazonaws.com/echo.api/never-{uuid.uuid4().hex}.pem"
    before = len(fake_amazon.s3.requests)
    response = await post_signed(alexa, fake_amazon, body(), cert_url=cert_url)
    assert response.status_code == 400, response.text
    refusals = [r.getMessage() for r in caplog.records if r.name == "aion.api.alexa"]
    assert any(reason in message for message in refusals), refusals
    assert len(fake_amazon.s3.requests) == before


# --- refused requests: each breaks one rule of a request that is otherwise valid ---------------


def _valid() -> dict[str, Any]:
    return command(f"never run {uuid.uuid4().hex[:8]}")


def _tampered(fake: FakeAmazon) -> dict[str, Any]:
    body = _valid()
    signed = amazon.encode(body)
    body["request"]["intent"]["slots"]["command"]["value"] = "something else entirely"
    return {"body": body, "signed_body": signed}


REFUSALS: list[tuple[str, Any, str]] = [
    ("no-cert-url", lambda f: {"cert_url": None}, "SignatureCertChainUrl header is missing"),
    ("no-signature", lambda f: {"signature": ""}, "Signature-256 header is missing"),
    (
        "http",
        lambda f: {"cert_url": "http://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"},
        "is not https",
    ),
    (
        "other-host",
        lambda f: {"cert_url": "https://notamazon.com/echo.api/echo-api-cert-12.pem"},
        "is not on s3.amazonaws.com",
    ),
    (
        "lookalike-host",
        lambda f: {"cert_url": "https://s3.amazonaws.com.evil.example/echo.api/x.pem"},
        "is not on s3.amazonaws.com",
    ),
    (
        "userinfo",
        lambda f: {"cert_url": "https://evil@s3.amazonaws.com/echo.api/echo-api-cert-12.pem"},
        "is not on s3.amazonaws.com",
    ),
    (
        "path-case",
        lambda f: {"cert_url": "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert-12.pem"},
        "not under /echo.api/",
    ),
    (
        "path-other",
        lambda f: {"cert_url": "https://s3.amazonaws.com/invalid.path/echo-api-cert-12.pem"},
        "not under /echo.api/",
    ),
    (
        "path-dot-dot",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/../x"},
        "path is '/x'",
    ),
    (
        "path-encoded-dot-dot",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/%2e%2e/x"},
        "path is '/x'",
    ),
    (
        "port",
        lambda f: {"cert_url": "https://s3.amazonaws.com:563/echo.api/echo-api-cert-12.pem"},
        "port 563, not 443",
    ),
    (
        "no-such-chain",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/missing.pem"},
        "answered HTTP 404",
    ),
    (
        "not-pem",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/garbage.pem"},
        "chain is",
    ),
    (
        "expired",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/expired.pem"},
        "not now",
    ),
    (
        "not-yet-valid",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/future.pem"},
        "not now",
    ),
    (
        "wrong-san",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/wrong-name.pem"},
        "not echo-api.amazon.com",
    ),
    (
        "untrusted-root",
        lambda f: {"cert_url": "https://s3.amazonaws.com/echo.api/untrusted.pem"},
        "does not chain to a trusted root",
    ),
    ("other-key", lambda f: {"key": f.other_key}, "does not match the request body"),
    ("not-base64", lambda f: {"signature": "not base64!"}, "not base64"),
    ("body-tampered", _tampered, "does not match the request body"),
    (
        "stale",
        lambda f: {"body": command("late", offset_seconds=-151)},
        "away from now",
    ),
    (
        "from-the-future",
        lambda f: {"body": command("early", offset_seconds=200)},
        "away from now",
    ),
    (
        "wrong-skill",
        lambda f: {"body": amazon.envelope("amzn1.ask.skill.other", amazon.launch())},
        "not the configured ALEXA_SKILL_ID",
    ),
    (
        "wrong-session-skill",
        lambda f: {
            "body": amazon.envelope(
                SKILL_ID, amazon.launch(), session_skill_id="amzn1.ask.skill.other"
            )
        },
        "not the configured ALEXA_SKILL_ID",
    ),
    ("not-an-alexa-body", lambda f: {"body": {"hello": "world"}}, "not an Alexa request"),
]


@pytest.mark.parametrize(("case", "breaks", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_unverified_requests_are_refused(
    alexa: httpx.AsyncClient,
    fake_amazon: FakeAmazon,
    fake_llm: FakeLLM,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    case: str,
    breaks: Any,
    reason: str,
) -> None:
    options = breaks(fake_amazon)
    body = options.pop("body", _valid())
    before = len(fake_llm.requests)
    response = await post_signed(alexa, fake_amazon, body, **options)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "AlexaVerificationFailed",
        "detail": "This request could not be verified as coming from Alexa for this skill.",
    }
    refusals = [r.getMessage() for r in caplog.records if r.name == "aion.api.alexa"]
    assert any(reason in message for message in refusals), refusals
    assert len(fake_llm.requests) == before
    contents = [m["content"] for m in await history(client, ALEXA_CHANNEL)]
    assert not any("never run" in c or "something else" in c for c in contents)


async def test_a_replayed_request_is_refused(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon, caplog: pytest.LogCaptureFixture
) -> None:
    body = amazon.encode(amazon.envelope(SKILL_ID, amazon.launch()))
    first = await post_signed(alexa, fake_amazon, body)
    again = await post_signed(alexa, fake_amazon, body)
    assert first.status_code == 200 and again.status_code == 400
    assert any("a replay" in r.getMessage() for r in caplog.records)


async def test_alexa_bodies_are_json_and_small(
    alexa: httpx.AsyncClient, fake_amazon: FakeAmazon
) -> None:
    body = _valid()
    body["padding"] = "x" * 300_000
    response = await post_signed(alexa, fake_amazon, body)
    assert response.status_code == 413 and response.json()["error"] == "PayloadTooLarge"
    response = await alexa.post(
        "/api/alexa", content=b"request=1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


async def test_without_a_skill_id_every_request_is_refused(
    stack: Stack, fake_amazon: FakeAmazon, anonymous: httpx.AsyncClient
) -> None:
    """The stack's own api process: Amazon's real trust, and no ALEXA_SKILL_ID configured.

    Refused before anything is fetched, so this never reaches out to Amazon.
    """
    assert stack.api is not None and "ALEXA_SKILL_ID" not in stack.env
    response = await post_signed(anonymous, fake_amazon, _valid())
    assert response.status_code == 400
    assert response.json()["error"] == "AlexaVerificationFailed"
    assert "ALEXA_SKILL_ID is not set" in stack.api.log()
