"""The settings feature's inputs: the organisation's settings and an SMTP server, one schema each,
with the rules of their fields (a pasted DKIM key, the subscription topics, host names)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from msgspec import UNSET, Meta, UnsetType

from webapp.core.schemas import Rule, Schema, flag, matches, one_of, text, whole_number
from webapp.core.validation import normalize_email, text_field

# ---- the organisation -------------------------------------------------------------------------

MIN_DKIM_KEY_BITS = 1024  # receivers ignore shorter keys
DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
SELECTOR = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
MAX_TOPICS, TOPIC_MAX_LENGTH = 20, 50
REQUIRED_FOR_SENDING = "Required before any campaign can be sent: it is in the footer of every message."


NOT_A_KEY = "Paste a PEM private key (-----BEGIN PRIVATE KEY----- ...), or use Generate key pair."


def pem(private_key: rsa.RSAPrivateKey) -> str:
    """PKCS#1 with \\n line ends: the form dkimpy parses (it cannot read a pasted key with \\r\\n)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def _dkim_key(raw: str, label: str) -> str:
    """A pasted PEM RSA private key, normalised for dkimpy; blank (keep the saved key) stays blank."""
    if not raw.strip():
        return ""
    try:
        key = serialization.load_pem_private_key(raw.strip().encode(), password=None)
    except TypeError:
        raise ValueError("That key is protected by a passphrase; paste it without one.") from None
    except (ValueError, UnicodeEncodeError):
        raise ValueError(NOT_A_KEY) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("Use an RSA key (DKIM signing here uses rsa-sha256).")
    if key.key_size < MIN_DKIM_KEY_BITS:
        raise ValueError(f"The key has {key.key_size} bits; use at least {MIN_DKIM_KEY_BITS} (2048 is usual).")
    return pem(key)


def _topics(raw: Any, label: str) -> tuple[str, ...]:
    """Topics typed one per line or separated by commas (or a list), de-duplicated in any case."""
    items = re.split(r"[,\n]", raw) if isinstance(raw, str) else raw if isinstance(raw, (list, tuple)) else None
    if items is None or not all(isinstance(item, str) for item in items):
        raise ValueError("Enter the topics as text, separated by commas.")
    topics: dict[str, str] = {}
    for item in items:
        topic = " ".join(item.replace("\x00", "").split())
        if len(topic) > TOPIC_MAX_LENGTH:
            raise ValueError(f"Topic '{topic[:20]}…' is longer than {TOPIC_MAX_LENGTH} characters.")
        if topic:
            topics.setdefault(topic.lower(), topic)
    if len(topics) > MAX_TOPICS:
        raise ValueError(f"Offer at most {MAX_TOPICS} topics.")
    return tuple(topics.values())


def _mailbox(raw: str, label: str) -> str:
    """An address, also written as a mailto: link; blank for none."""
    address = raw.strip().removeprefix("mailto:")
    return normalize_email(address) if address else ""


Mailbox = Rule(_mailbox)


class OrgSettingsInput(Schema, kw_only=True):
    """The organisation form. A blank DKIM key keeps the saved one; dkim_remove_key removes it."""

    organisation_name: Annotated[str, text(200, blank=REQUIRED_FOR_SENDING)]
    postal_address: Annotated[str, text(500, blank=REQUIRED_FOR_SENDING, multiline=True)]
    default_from_name: Annotated[str | UnsetType, text(200)] = UNSET
    default_from_email: Annotated[str | UnsetType, Mailbox] = UNSET
    unsubscribe_mailto: Annotated[str | UnsetType, Mailbox] = UNSET
    dkim_domain: Annotated[
        str | UnsetType, text(255), matches(DOMAIN, "Enter the domain you send from, e.g. example.com.")
    ] = UNSET
    dkim_selector: Annotated[
        str | UnsetType, text(63), matches(SELECTOR, "Use letters, digits, '-' or '_', e.g. mailroom or mr2025.")
    ] = UNSET
    dkim_private_key: Annotated[str | UnsetType, Rule(_dkim_key)] = UNSET
    dkim_remove_key: Annotated[bool | UnsetType, flag()] = UNSET
    subscription_topics: Annotated[str | list[str] | UnsetType, Rule(_topics, converts=True)] = UNSET


# ---- SMTP servers -----------------------------------------------------------------------------

TLS_MODES = {"none": "None (plain SMTP)", "starttls": "STARTTLS (usually port 587)", "tls": "TLS (usually port 465)"}
MAX_PASSWORD_LENGTH = 1000
MAX_RATE = 10_000_000
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|[0-9A-Fa-f:]+)$")
HOST_MESSAGE = "Enter a host name or IP address, e.g. smtp.example.com."
# An IPv6 address as URLs write it ([::1]) is kept as the address itself, which is what connecting takes.
UNBRACKETED = Rule(lambda value, label: value[1:-1] if isinstance(value, str) and value.startswith("[") else value)


def _password(raw: Any, label: str) -> str:
    """Kept as typed (spaces count); blank keeps the saved password."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw) > MAX_PASSWORD_LENGTH or "\x00" in raw:
        raise ValueError(f"Enter the password as text of at most {MAX_PASSWORD_LENGTH} characters.")
    return raw


class SmtpServerInput(Schema, kw_only=True):
    """An SMTP server, whole. A blank password keeps the saved one (the service knows whether a
    username still needs one)."""

    name: Annotated[
        str, Meta(title="Name"), text(200, blank="Give the server a name, e.g. “Postmark” or “Office relay”.")
    ]
    host: Annotated[str, Meta(title="Host"), text(255, blank=HOST_MESSAGE), matches(HOST, HOST_MESSAGE), UNBRACKETED]
    port: Annotated[int, Meta(title="Port"), whole_number(1, 65535)]
    tls_mode: Annotated[
        str, Meta(title="TLS mode"), one_of(list(TLS_MODES), "Choose a TLS mode: none, starttls or tls.")
    ]
    username: Annotated[str | UnsetType, Meta(title="Username"), text(320)] = UNSET
    password: Annotated[str | UnsetType, Meta(title="Password"), Rule(_password, converts=True)] = UNSET
    rate_per_second: Annotated[int, Meta(title="Rate per second"), whole_number(0, MAX_RATE)]
    rate_per_hour: Annotated[int, Meta(title="Rate per hour"), whole_number(0, MAX_RATE)]
    rate_per_day: Annotated[int, Meta(title="Rate per day"), whole_number(0, MAX_RATE)]
    max_connections: Annotated[int, Meta(title="Max connections"), whole_number(1, 50)]
    priority: Annotated[int, Meta(title="Priority"), whole_number(0, 1000)]
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET
    allow_private: Annotated[bool | UnsetType, Meta(title="Allow a private address"), flag()] = UNSET


# ---- feedback sources (ESP webhooks) ----------------------------------------------------------

SNS_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
MAX_SNS_TOPICS = 20
MIN_SECRET_LENGTH = 16
NO_COLON = re.compile(r"^[^:]*$")  # HTTP basic auth separates the user from the password with one


def _sns_topics(raw: Any, label: str) -> tuple[str, ...]:
    """Topic ARNs one per line (or separated by commas or spaces), de-duplicated."""
    if not isinstance(raw, str):
        raise ValueError("Enter the topic ARNs as text, one per line.")
    topics = tuple(dict.fromkeys(re.split(r"[\s,]+", raw.strip()))) if raw.strip() else ()
    for topic in topics:
        if not SNS_TOPIC.match(topic):
            raise ValueError(f"'{topic[:80]}' is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>).")
    if len(topics) > MAX_SNS_TOPICS:
        raise ValueError(f"Allow at most {MAX_SNS_TOPICS} topics.")
    return topics


def sendgrid_public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    """The verification key as SendGrid shows it (base64 DER); ValueError unless it is a P-256 public key."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("Not a base64 DER public key.") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("Not an ECDSA P-256 public key.")
    return key


def _sendgrid_key(raw: Any, label: str) -> str:
    key = text_field(raw, label, 500)
    if key:
        try:
            sendgrid_public_key(key)
        except ValueError:
            raise ValueError("Paste the verification key SendGrid shows (base64, an ECDSA P-256 public key).") from None
    return key


def _secret(raw: Any, label: str) -> str:
    """A pasted secret, kept as typed but for surrounding spaces; blank keeps the saved one."""
    secret = _password(raw, label).strip()
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"Use at least {MIN_SECRET_LENGTH} characters.")
    return secret


class FeedbackSourcesInput(Schema, kw_only=True):
    """Settings → Feedback sources. Blank secrets keep the saved ones; the remove flags clear them.
    (The SendGrid key is public, so it is shown and edited as it is.)"""

    ses_topics: Annotated[str | UnsetType, Meta(title="SNS topic ARNs"), Rule(_sns_topics, converts=True)] = UNSET
    sendgrid_key: Annotated[
        str | UnsetType, Meta(title="SendGrid verification key"), Rule(_sendgrid_key, converts=True)
    ] = UNSET
    postmark_user: Annotated[
        str | UnsetType, Meta(title="Postmark user"), text(100), matches(NO_COLON, "A user name cannot contain ':'.")
    ] = UNSET
    postmark_password: Annotated[str | UnsetType, Meta(title="Postmark password"), Rule(_secret, converts=True)] = UNSET
    mailgun_key: Annotated[str | UnsetType, Meta(title="Mailgun signing key"), Rule(_secret, converts=True)] = UNSET
    mailgun_remove: Annotated[bool | UnsetType, flag()] = UNSET
    generic_secret: Annotated[str | UnsetType, Meta(title="Generic secret"), Rule(_secret, converts=True)] = UNSET
    generic_remove: Annotated[bool | UnsetType, flag()] = UNSET
