"""Amazon, faked for the Alexa tests: a throw-away CA, signing certificates, a certificate
server at s3.amazonaws.com, and Alexa's signed requests.

Certificates are made here with cryptography: a root (the only trust anchor the api is given),
an intermediate, and leaf certificates for echo-api.amazon.com (plus broken ones: expired, the
wrong name, from a CA nobody trusts). The certificate server is an httpx transport answering
GETs on https://s3.amazonaws.com/... the way S3 does (200 with the PEM, 404 otherwise), behind
the api's real `HttpCertificateFetcher`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.api.alexa.certs import AlexaTrust, HttpCertificateFetcher

SIGNING_NAME = "echo-api.amazon.com"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"

CAKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AION test CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Authority:
    """A CA certificate with its key; `issue` makes certificates it signs."""

    cert: x509.Certificate
    key: CAKey

    @classmethod
    def root(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    def _builder(
        self, subject: str, public_key: Any, days: tuple[float, float]
    ) -> x509.CertificateBuilder:
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days[0]))
            .not_valid_after(now + dt.timedelta(days=days[1]))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )

    def intermediate(self, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            self._builder(name, key.public_key(), (-30, 3000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return Authority(cert, key)

    def leaf(
        self,
        key: rsa.RSAPrivateKey,
        dns_name: str = SIGNING_NAME,
        days: tuple[float, float] = (-1, 300),
    ) -> x509.Certificate:
        """A signing certificate like Amazon's: RSA, serverAuth, the name in its SAN."""
        return (
            self._builder(dns_name, key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                False,
            )
            .sign(self.key, hashes.SHA256())
        )


def pem_chain(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@dataclass
class FakeS3:
    """The certificate server: path → PEM bytes, every request recorded."""

    objects: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        body = self.objects.get(request.url.path)
        if request.url.host != "s3.amazonaws.com" or request.method != "GET" or body is None:
            return httpx.Response(404, content=b"<Error><Code>NoSuchKey</Code></Error>")
        return httpx.Response(200, content=body, headers={"Content-Type": "application/x-pem"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self._handle))


def sign(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """Alexa's Signature-256: base64 of RSA PKCS#1 v1.5 over SHA-256 of the body bytes."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def timestamp(offset_seconds: float = 0.0) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    skill_id: str,
    request: dict[str, Any],
    *,
    new: bool = True,
    session_skill_id: str | None = None,
    offset_seconds: float = 0.0,
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A request body shaped like Alexa's (trimmed of the device and user details).

    `attributes`: what the skill's previous response in the session put in `sessionAttributes`,
    which Alexa sends back as `session.attributes`.
    """
    session: dict[str, Any] = {
        "new": new,
        "sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
        "application": {"applicationId": session_skill_id or skill_id},
        "user": {"userId": "amzn1.ask.account.TEST"},
    }
    if attributes is not None:
        session["attributes"] = attributes
    return {
        "version": "1.0",
        "session": session,
        "context": {
            "System": {
                "application": {"applicationId": skill_id},
                "user": {"userId": "amzn1.ask.account.TEST"},
                "device": {"deviceId": "amzn1.ask.device.TEST", "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
            }
        },
        "request": {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": timestamp(offset_seconds),
            "locale": "en-US",
            **request,
        },
    }


def launch() -> dict[str, Any]:
    return {"type": "LaunchRequest"}


def intent(name: str, **slots: str) -> dict[str, Any]:
    return {
        "type": "IntentRequest",
        "dialogState": "COMPLETED",
        "intent": {
            "name": name,
            "confirmationStatus": "NONE",
            "slots": {
                slot: {"name": slot, "value": value, "confirmationStatus": "NONE"}
                for slot, value in slots.items()
            },
        },
    }


def session_ended(reason: str = "USER_INITIATED") -> dict[str, Any]:
    return {"type": "SessionEndedRequest", "reason": reason}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


class FakeAmazon:
    """The CA, the signing key and the certificate server for one test module."""

    def __init__(self) -> None:
        self.root = Authority.root("AION test root")
        self.issuer = self.root.intermediate("AION test intermediate")
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        stranger = Authority.root("Nobody trusts me").intermediate("Stranger")
        self.s3 = FakeS3(
            {
                "/echo.api/echo-api-cert-12.pem": self._chain(self.issuer.leaf(self.key)),
                "/echo.api/expired.pem": self._chain(self.issuer.leaf(self.key, days=(-60, -1))),
                "/echo.api/future.pem": self._chain(self.issuer.leaf(self.key, days=(1, 30))),
                "/echo.api/wrong-name.pem": self._chain(
                    self.issuer.leaf(self.key, dns_name="echo-api.example.com")
                ),
                "/echo.api/untrusted.pem": pem_chain(stranger.leaf(self.key), stranger.cert),
                "/echo.api/garbage.pem": b"this is not a certificate",
            }
        )

    def _chain(self, leaf: Any) -> bytes:
        return pem_chain(leaf, self.issuer.cert)

    def trust(self) -> AlexaTrust:
        return AlexaTrust(roots=[self.root.cert], fetcher=HttpCertificateFetcher(self.s3.client()))
