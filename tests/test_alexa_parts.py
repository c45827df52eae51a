"""The Alexa pieces that need no server: speech, the interaction model, the production roots."""

from __future__ import annotations

import json

import pytest

from services.api.alexa import skill, speech, voice
from services.api.alexa.certs import CertificateError, certifi_roots, normalise_cert_url
from services.api.alexa.models import Session
from tests.stack import ROOT


def test_production_roots_include_amazons() -> None:
    subjects = {root.subject.rfc4514_string() for root in certifi_roots()}
    assert "CN=Amazon Root CA 1,O=Amazon,C=US" in subjects
    assert len(subjects) > 100


def test_speech_is_plain_escaped_and_short() -> None:
    answer = (
        "## Result\n\nThe **answer** is `42` & more, see [the docs](https://example.com/x).\n\n"
        "- first point\n- second point\n\n```python\nprint('hi')\n```\n\n"
        + "This sentence is filler for length. "
        * 30
    )
    ssml, card = speech.spoken(answer)
    text = ssml[len("<speak>") : -len("</speak>")]
    assert text.startswith(
        "Result. The answer is 42 &amp; more, see the docs. first point. second point. "
        "There is some code on the card. This sentence is filler"
    )
    assert "*" not in text and "`" not in text and "https" not in text and "<" not in text
    assert text.endswith(f"length. {speech.MORE_ON_CARD}")
    assert len(text) <= speech.MAX_SPOKEN_CHARS + len(speech.MORE_ON_CARD) + 10
    assert card.startswith("Result\nThe answer is 42 & more, see the docs.\nfirst point")
    assert "print('hi')" in card and card.count("filler") == 30


def test_shorten_cuts_at_a_sentence_or_a_word() -> None:
    assert speech.shorten("Short. Enough.", 50) == ("Short. Enough.", False)
    assert speech.shorten("One two. Three four five.", 12) == ("One two.", True)
    assert speech.shorten("averyveryvery long first sentence", 15) == ("averyveryvery.", True)


def test_interaction_model_matches_the_handled_intents() -> None:
    model = json.loads((ROOT / "docs/alexa/interaction_model.json").read_text())
    language = model["interactionModel"]["languageModel"]
    intents = {i["name"]: i for i in language["intents"]}
    assert set(intents) == skill.HANDLED_INTENTS
    command_intent = intents[skill.COMMAND_INTENT]
    assert [s["name"] for s in command_intent["slots"]] == [skill.COMMAND_SLOT]
    assert any(f"{{{skill.COMMAND_SLOT}}}" == u for u in command_intent["samples"])
    slot_types = {t["name"] for t in language.get("types", [])}
    assert command_intent["slots"][0]["type"] in slot_types


def test_arguments_are_read_out_whole_or_not_at_all() -> None:
    args = {
        "text": "buy milk",
        "count": 3,
        "urgent": True,
        "due": None,
        "tags": ["home", 2],
        "where": {"shop": "corner"},
        "note": "",
    }
    assert voice.readable_args("todo_add", args) == (
        "text: buy milk; count: 3; urgent: true; due: null; tags: (home, 2); "
        "where: (shop: corner); note: (empty)"
    )
    assert voice.readable_args("risky", {}) == "no arguments"
    fits = "x" * (voice.MAX_SPOKEN_ARGS_CHARS - len('{"text":""}'))
    assert voice.readable_args("risky", {"text": fits}) == f"text: {fits}"
    assert voice.readable_args("risky", {"text": fits + "x"}) is None  # too long to read out
    # What a voice cannot say (and so cannot be approved by ear): line breaks, control and
    # formatting characters (a bidi override could make a card read differently).
    for hidden in ("one\ntwo", "a\tb", "rm \u202e-rf", "zero\u200bwidth", "bell\x07"):
        assert voice.readable_args("risky", {"text": hidden}) is None, hidden
    assert voice.readable_args("risky", {"te\u200bxt": "a"}) is None


def test_the_session_names_an_approval_only_in_aions_own_shape() -> None:
    approval_id = "0123456789abcdef" * 2
    asked = voice.AskedApproval(id=approval_id, one_shot=True)
    session = Session.model_validate({"new": False, "attributes": asked.attributes()})
    assert voice.AskedApproval.of(session) == asked
    assert voice.AskedApproval.of(Session.model_validate({"new": True})) is None
    for attributes in (
        {voice.SESSION_KEY: {"id": "../../approvals/x"}},
        {voice.SESSION_KEY: {"id": approval_id, "extra": 1}},
        {voice.SESSION_KEY: approval_id},
        {"other": 1},
        None,
    ):
        session = Session.model_validate({"new": False, "attributes": attributes})
        assert voice.AskedApproval.of(session) is None, attributes


def test_certificate_urls_normalise_to_one_key() -> None:
    """Every spelling of Amazon's URL is one cache key; a query or fragment is dropped."""
    for url in [
        "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem",
        "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem?x=1",
        "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem#f",
        "HTTPS://S3.AMAZONAWS.COM:443/echo.api/echo-api-cert-12.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/./echo-api-cert-12.pem?versionId=1",
        "https://s3.amazonaws.com/echo.api/%65cho-api-cert-12.pem",
    ]:
        key = normalise_cert_url(url)
        assert key == "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem", url
    # The path is checked without the query, so a query cannot carry /echo.api/ for it.
    with pytest.raises(CertificateError, match=r"not under /echo\.api/"):
        normalise_cert_url("https://s3.amazonaws.com/other?/echo.api/x.pem")
