"""Amazon SNS HTTP(S) deliveries: the signature over SNS's canonical string (SignatureVersion 1 is
SHA1withRSA, 2 is SHA256withRSA), the signing certificate's URL pinned to SNS's own host, and the
topic allowlist. https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from webapp.feedback.service.providers import Refused, json_body, text

SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com")
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
# The fields each message type signs, in the order SNS documents them.
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


def on_sns(url: str) -> SplitResult | None:
    """The parts of an https URL on exactly sns.<region>.amazonaws.com (no port, no user info):
    where SNS serves its certificates and confirms subscriptions. None for any other URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    ok = parts.scheme == "https" and SNS_HOST.fullmatch(parts.netloc) is not None and parts.path.startswith("/")
    return parts if ok else None


def envelope(raw: bytes) -> dict[str, Any]:
    """The SNS message: a JSON object of strings with a known Type."""
    message = json_body(raw)
    if not isinstance(message, dict) or message.get("Type") not in SIGNED_FIELDS:
        raise Refused(400, "Not an Amazon SNS message.")
    return message


def canonical(message: dict[str, Any]) -> bytes:
    lines = []
    for name in SIGNED_FIELDS[message["Type"]]:
        if message.get(name) is not None:  # only Subject may be missing
            lines += [name, text(message[name])]
    return ("\n".join(lines) + "\n").encode()


def certificate_url(message: dict[str, Any]) -> str:
    url = text(message.get("SigningCertURL"))
    parts = on_sns(url)
    if parts is None or not parts.path.endswith(".pem") or parts.query or parts.fragment:
        raise Refused(403, "The signing certificate is not on Amazon SNS.")
    return url


def verify(message: dict[str, Any], certificate: x509.Certificate, now: datetime) -> None:
    """Raise Refused unless `certificate` (fetched from certificate_url) signed the message."""
    algorithm = HASHES.get(text(message.get("SignatureVersion")))
    if algorithm is None:
        raise Refused(401, "Unknown SNS signature version.")
    try:
        signature = base64.b64decode(text(message.get("Signature")), validate=True)
    except binascii.Error:
        raise Refused(401, "The SNS signature is not base64.") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(401, "The signing certificate has no RSA key.")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Refused(401, "The signing certificate has expired.")
    try:
        key.verify(signature, canonical(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise Refused(401, "The SNS signature does not match.") from None


def check_topic(message: dict[str, Any], allowed: Collection[str]) -> None:
    if text(message.get("TopicArn")) not in allowed:
        raise Refused(403, "This SNS topic is not allowed.")


def subscribe_url(message: dict[str, Any]) -> str:
    url = text(message.get("SubscribeURL"))
    if on_sns(url) is None:
        raise Refused(403, "The subscription URL is not on Amazon SNS.")
    return url
