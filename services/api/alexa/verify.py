"""Is this request from Alexa, for our skill? Checked as Amazon documents it, before trusting it.

Order matters: everything that costs nothing comes first, so a request that fails it never
makes the api fetch a certificate. The headers are there, the certificate URL has Amazon's
shape, the body is an Alexa request, its timestamp is within 150 s and it names our skill id;
only then the chain is fetched (or taken from the cache) and checked, and the signature over the
raw body bytes verified. Until that last step nothing read from the body is trusted: it only
decides whether the request is worth a fetch. Each refusal names its reason in the log; the
client gets a plain 400.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime

import pydantic
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from redis.asyncio import Redis

from services.api.alexa.certs import AlexaTrust, CertificateError, ChainCache, normalise_cert_url
from services.api.alexa.models import Envelope
from services.api.errors import AppError

log = logging.getLogger("aion.api.alexa")

SIGNING_NAME = "echo-api.amazon.com"
MAX_TIMESTAMP_SKEW_SECONDS = 150.0


class AlexaRejected(AppError):
    """A request that is not a verified Alexa request for the configured skill."""

    status = 400
    error = "AlexaVerificationFailed"

    def __init__(self, reason: str) -> None:
        super().__init__("This request could not be verified as coming from Alexa for this skill.")
        self.reason = reason


def _refuse(reason: str) -> AlexaRejected:
    log.warning("alexa request refused: %s", reason)
    return AlexaRejected(reason)


class AlexaVerifier:
    """Verifies requests for one skill against one trust (Amazon's, or a test's own CA)."""

    def __init__(self, skill_id: str | None, trust: AlexaTrust) -> None:
        self.skill_id = skill_id
        self._store = Store(list(trust.roots))
        self._chains = ChainCache(trust.fetcher)

    async def verify(self, cert_url: str | None, signature: str | None, body: bytes) -> Envelope:
        """The parsed envelope of a verified request; raises `AlexaRejected` otherwise."""
        if not self.skill_id:
            raise _refuse("ALEXA_SKILL_ID is not set, so no Alexa skill may call /api/alexa")
        if not cert_url:
            raise _refuse("the SignatureCertChainUrl header is missing")
        if not signature:
            raise _refuse("the Signature-256 header is missing")
        try:
            url = normalise_cert_url(cert_url)
        except CertificateError as exc:
            raise _refuse(str(exc)) from exc
        try:
            envelope = Envelope.model_validate_json(body)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise _refuse(f"the body is not an Alexa request ({problems})") from exc
        self._check_timestamp(envelope)
        self._check_skill(envelope)
        # Only now anything that may reach out to Amazon.
        try:
            leaf = self._check_chain(await self._chains.get(url))
        except CertificateError as exc:
            raise _refuse(str(exc)) from exc
        self._check_signature(leaf, signature, body)
        return envelope

    def _check_chain(self, chain: list[x509.Certificate]) -> x509.Certificate:
        leaf, intermediates = chain[0], chain[1:]
        now = datetime.now(UTC)
        # Dates and name first, for a clear reason; the path validation below checks them again.
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            raise CertificateError(
                f"signing certificate is valid from {leaf.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
                f" to {leaf.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not now"
            )
        try:
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            dns_names = names.value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            dns_names = []
        if SIGNING_NAME not in dns_names:
            raise CertificateError(f"signing certificate is for {dns_names}, not {SIGNING_NAME}")
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .build_server_verifier(x509.DNSName(SIGNING_NAME))
        )
        try:
            verifier.verify(leaf, intermediates)
        except VerificationError as exc:
            reason = f"signing certificate does not chain to a trusted root: {exc}"
            raise CertificateError(reason) from exc
        return leaf

    def _check_signature(self, leaf: x509.Certificate, signature: str, body: bytes) -> None:
        try:
            raw = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _refuse("the Signature-256 header is not base64") from exc
        key = leaf.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise _refuse("the signing certificate's key is not RSA")
        try:
            key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise _refuse("Signature-256 does not match the request body") from exc

    def _check_timestamp(self, envelope: Envelope) -> None:
        stamp = envelope.request.timestamp
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        skew = abs((datetime.now(UTC) - stamp).total_seconds())
        if skew > MAX_TIMESTAMP_SKEW_SECONDS:
            raise _refuse(
                f"request timestamp {stamp.isoformat()} is {skew:.0f} s away from now "
                f"(at most {MAX_TIMESTAMP_SKEW_SECONDS:.0f} s)"
            )

    def _check_skill(self, envelope: Envelope) -> None:
        found = envelope.application_ids()
        if not found:
            raise _refuse("the request names no applicationId")
        wrong = [app for app in found if app != self.skill_id]
        if wrong:
            raise _refuse(f"the request is for skill {wrong[0]}, not the configured ALEXA_SKILL_ID")


async def refuse_replays(redis: Redis, envelope: Envelope) -> None:
    """A verified request is accepted once: the same requestId again within the timestamp
    window is a replay (Amazon's timestamp rule alone would let it through for 150 s)."""
    key = f"aion:alexa:request:{envelope.request.request_id}"
    first = await redis.set(key, b"1", nx=True, ex=int(2 * MAX_TIMESTAMP_SKEW_SECONDS) + 10)
    if not first:
        raise _refuse(f"request {envelope.request.request_id} was already answered (a replay)")
