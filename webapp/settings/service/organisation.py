"""Organisation-wide settings admins edit in the UI: who is sending (name, postal address for the
footer every marketing message must carry), the unsubscribe mailto, and DKIM signing."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.errors import ValidationFailed
from webapp.core.validation import normalize_email, text_field
from webapp.settings.models import AppSetting

KEY = "organisation"
DKIM_KEY_BITS = 2048
MIN_DKIM_KEY_BITS = 1024  # receivers ignore shorter keys
DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
SELECTOR = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
# Topics subscribers choose from in the preference centre. The defaults are translated on the public
# pages (translations/); topics an organisation adds are shown as typed.
DEFAULT_TOPICS = ("News", "Promotions", "Tips", "Events")
MAX_TOPICS, TOPIC_MAX_LENGTH = 20, 50


@dataclass(frozen=True)
class OrgSettings:
    organisation_name: str = ""
    postal_address: str = ""
    default_from_name: str = ""
    default_from_email: str = ""
    unsubscribe_mailto: str = ""
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_private_key: str = ""  # decrypted when loaded; stored encrypted
    subscription_topics: tuple[str, ...] = DEFAULT_TOPICS

    @property
    def dkim_enabled(self) -> bool:
        return bool(self.dkim_domain and self.dkim_selector and self.dkim_private_key)

    @property
    def missing_for_sending(self) -> list[str]:
        """What must be filled in before any campaign can go out (it is in every message's footer)."""
        return [
            label
            for label, value in (("organisation name", self.organisation_name), ("postal address", self.postal_address))
            if not value
        ]

    @property
    def dkim_dns_name(self) -> str:
        return f"{self.dkim_selector or '<selector>'}._domainkey.{self.dkim_domain or '<domain>'}"

    @property
    def dkim_dns_record(self) -> str:
        """The TXT record receivers look up to check signatures made with the saved key."""
        if not self.dkim_private_key:
            return ""
        try:
            key = serialization.load_pem_private_key(self.dkim_private_key.encode(), password=None)
        except ValueError:  # saved before keys were checked; the form asks for a new one
            return ""
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


async def load(session: AsyncSession) -> OrgSettings:
    row = await session.scalar(select(AppSetting.value).where(AppSetting.key == KEY))
    stored = dict(row or {})
    encrypted = stored.pop("dkim_private_key_encrypted", "")
    known = {f.name for f in fields(OrgSettings)}
    values = {k: v for k, v in stored.items() if k in known}
    values["dkim_private_key"] = secret_box.decrypt(encrypted.encode()) if encrypted else ""
    if isinstance(values.get("subscription_topics"), list):
        values["subscription_topics"] = tuple(values["subscription_topics"])
    return OrgSettings(**values)


def _pem(private_key: rsa.RSAPrivateKey) -> str:
    # PKCS#1 with \n line ends: the form dkimpy parses (it cannot read a pasted key with \r\n).
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def _dkim_key(raw: str) -> str:
    """A pasted PEM RSA private key, normalised for dkimpy, or ValueError saying what is wrong."""
    try:
        key = serialization.load_pem_private_key(raw.encode(), password=None)
    except TypeError:
        raise ValueError("That key is protected by a passphrase; paste it without one.") from None
    except (ValueError, UnicodeEncodeError):
        raise ValueError("Paste a PEM private key (-----BEGIN PRIVATE KEY----- ...), or generate one below.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("Use an RSA key (DKIM signing here uses rsa-sha256).")
    if key.key_size < MIN_DKIM_KEY_BITS:
        raise ValueError(f"The key has {key.key_size} bits; use at least {MIN_DKIM_KEY_BITS} (2048 is usual).")
    return _pem(key)


def generate_dkim_key() -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=DKIM_KEY_BITS))


def parse_topics(raw: Any) -> tuple[str, ...]:
    """Topics typed one per line or separated by commas; ValueError saying what is wrong."""
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


def validate(data: Mapping[str, Any], current: OrgSettings) -> OrgSettings:
    errors: dict[str, str] = {}
    values = asdict(current)
    limits = {
        "organisation_name": 200,
        "postal_address": 500,
        "default_from_name": 200,
        "dkim_domain": 255,
        "dkim_selector": 63,
    }
    for name, limit in limits.items():
        if name in data:
            try:
                values[name] = text_field(data[name], name.replace("_", " ").capitalize(), limit)
            except ValueError as exc:
                errors[name] = str(exc)
    values["postal_address"] = values["postal_address"].replace("\r\n", "\n")  # browsers send CRLF
    for name in ("organisation_name", "postal_address"):
        if not values[name] and name not in errors:
            errors[name] = "Required before any campaign can be sent: it is in the footer of every message."
    if values["dkim_domain"] and "dkim_domain" not in errors and not DOMAIN.match(values["dkim_domain"]):
        errors["dkim_domain"] = "Enter the domain you send from, e.g. example.com."
    if values["dkim_selector"] and "dkim_selector" not in errors and not SELECTOR.match(values["dkim_selector"]):
        errors["dkim_selector"] = "Use letters, digits, '-' or '_', e.g. mailroom or mr2025."
    for name in ("default_from_email", "unsubscribe_mailto"):
        if name in data:
            raw = data[name] if isinstance(data[name], str) else ""
            raw = raw.strip().removeprefix("mailto:")
            try:
                values[name] = normalize_email(raw) if raw else ""
            except ValueError as exc:
                errors[name] = str(exc)
    key = data.get("dkim_private_key")
    if isinstance(key, str) and key.strip():  # blank means "keep the current key"
        try:
            values["dkim_private_key"] = _dkim_key(key.strip())
        except ValueError as exc:
            errors["dkim_private_key"] = str(exc)
    if data.get("dkim_remove_key"):
        values["dkim_private_key"] = ""
    if "subscription_topics" in data:
        try:
            values["subscription_topics"] = parse_topics(data["subscription_topics"])
        except ValueError as exc:
            errors["subscription_topics"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return OrgSettings(**values)


async def save(session: AsyncSession, settings: OrgSettings) -> None:
    stored = asdict(settings)
    key = stored.pop("dkim_private_key")
    stored["dkim_private_key_encrypted"] = secret_box.encrypt(key).decode() if key else ""
    statement = insert(AppSetting).values(key=KEY, value=stored)
    await session.execute(statement.on_conflict_do_update(index_elements=[AppSetting.key], set_={"value": stored}))


async def replace_dkim_key(session: AsyncSession) -> OrgSettings:
    """Generate a new signing key, store it (encrypted) and return the settings with it."""
    settings = replace(await load(session), dkim_private_key=generate_dkim_key())
    await save(session, settings)
    return settings
