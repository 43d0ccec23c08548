"""Organisation-wide settings admins edit in the UI: who is sending (name, postal address for the
footer every marketing message must carry), the unsubscribe mailto, and DKIM signing."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.schemas import load as load_input
from webapp.settings import queries
from webapp.settings.schemas import OrgSettingsInput, pem

KEY = "organisation"
DKIM_KEY_BITS = 2048
# Topics subscribers choose from in the preference centre. The defaults are translated on the public
# pages (translations/); topics an organisation adds are shown as typed.
DEFAULT_TOPICS = ("News", "Promotions", "Tips", "Events")


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


def domains_align(a: str, b: str) -> bool:
    """DMARC's relaxed alignment, as Mailroom approximates it: the same domain, or one a subdomain of the other."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b or a.endswith("." + b) or b.endswith("." + a)


async def load(session: AsyncSession) -> OrgSettings:
    stored = dict(await queries.setting(session, KEY) or {})
    encrypted = stored.pop("dkim_private_key_encrypted", "")
    known = {f.name for f in fields(OrgSettings)}
    values = {k: v for k, v in stored.items() if k in known}
    values["dkim_private_key"] = secret_box.decrypt(encrypted.encode()) if encrypted else ""
    if isinstance(values.get("subscription_topics"), list):
        values["subscription_topics"] = tuple(values["subscription_topics"])
    return OrgSettings(**values)


async def update(session: AsyncSession, data: Mapping[str, Any]) -> OrgSettings:
    """Save the settings as sent (OrgSettingsInput); ValidationFailed names every problem."""
    values = load_input(OrgSettingsInput, data)
    key, remove_key = values.pop("dkim_private_key", ""), values.pop("dkim_remove_key", False)
    if key:  # a blank key keeps the saved one
        values["dkim_private_key"] = key
    if remove_key:
        values["dkim_private_key"] = ""
    settings = replace(await load(session), **values)
    await save(session, settings)
    return settings


async def save(session: AsyncSession, settings: OrgSettings) -> None:
    stored = asdict(settings)
    key = stored.pop("dkim_private_key")
    stored["dkim_private_key_encrypted"] = secret_box.encrypt(key).decode() if key else ""
    await queries.save_setting(session, KEY, stored)


def new_dkim_key() -> str:
    """A new signing key, as PEM."""
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=DKIM_KEY_BITS))


async def replace_dkim_key(session: AsyncSession) -> OrgSettings:
    """Generate a new signing key, store it (encrypted) and return the settings with it."""
    settings = replace(await load(session), dkim_private_key=new_dkim_key())
    await save(session, settings)
    return settings
