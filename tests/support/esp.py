"""Recorded ESP payloads (tests/fixtures/esp/, each with the documentation it came from) and the
signatures each provider would put on them, made with test keys: an RSA key and self-signed
certificate standing in for Amazon SNS's, an ECDSA P-256 pair for SendGrid, shared secrets for the
rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.support.certificates import self_signed
from webapp.core.webhook_signature import sign as mailroom_sign
from webapp.feedback.service.providers import sns

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "esp"
TOPIC = "arn:aws:sns:us-east-1:123456789012:mailroom-feedback"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def fixture(provider: str) -> Any:
    return json.loads((FIXTURES / f"{provider}.json").read_text())


# ---- Amazon SNS ---------------------------------------------------------------------------------


@cache
def sns_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def sns_certificate(key: rsa.RSAPrivateKey | None = None) -> x509.Certificate:
    return self_signed(key or sns_key(), "sns.amazonaws.com", valid_days=30)


def sns_pem() -> bytes:
    return sns_certificate().public_bytes(serialization.Encoding.PEM)


def sns_message(
    message: str | dict[str, Any],
    *,
    type: str = "Notification",
    version: str = "2",
    topic: str = TOPIC,
    key: rsa.RSAPrivateKey | None = None,
    cert_url: str = CERT_URL,
) -> dict[str, Any]:
    """An SNS HTTP delivery as SNS signs it."""
    body: dict[str, Any] = {
        "Type": type,
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "SignatureVersion": version,
        "SigningCertURL": cert_url,
    }
    if type == "Notification":
        body["Subject"] = "Amazon SES Email Event Notification"
        body["UnsubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"
    else:
        body["Token"] = "2336412f37fb687f5d51e6e2425dacbbab6a8cd0"
        body["SubscribeURL"] = (
            f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token=2336412f37"
        )
    return sns_signed(body, key)


def sns_signed(message: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
    """The message (re-)signed as SNS signs, with the hash its SignatureVersion names."""
    algorithm = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    signature = (key or sns_key()).sign(sns.canonical(message), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


# ---- SendGrid -----------------------------------------------------------------------------------


@cache
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def sendgrid_public_key(key: ec.EllipticCurvePrivateKey | None = None) -> str:
    """As SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = (
        (key or sendgrid_key())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def sendgrid_headers(body: bytes, key: ec.EllipticCurvePrivateKey | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = (key or sendgrid_key()).sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


# ---- Mailgun, Postmark, generic -----------------------------------------------------------------


def mailgun_signed(payload: dict[str, Any], key: str, *, timestamp: int | None = None) -> dict[str, Any]:
    """The payload with a fresh signature block, as Mailgun sends each request."""
    stamp, token = str(timestamp if timestamp is not None else int(time.time())), uuid.uuid4().hex * 2
    digest = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {**payload, "signature": {"timestamp": stamp, "token": token, "signature": digest}}


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def generic_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = timestamp if timestamp is not None else int(time.time())
    return {"Mailroom-Timestamp": str(stamp), "Mailroom-Signature": mailroom_sign(secret, stamp, body)}
