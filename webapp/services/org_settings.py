"""Organisation-wide settings admins edit in the UI: who is sending (name, postal address for the
footer every marketing message must carry), the unsubscribe mailto, and DKIM signing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.models.smtp import AppSetting
from webapp.services import secret_box
from webapp.services.errors import ValidationFailed
from webapp.services.validation import normalize_email, text_field

KEY = "organisation"


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

    @property
    def dkim_enabled(self) -> bool:
        return bool(self.dkim_domain and self.dkim_selector and self.dkim_private_key)


async def load(session: AsyncSession) -> OrgSettings:
    row = await session.scalar(select(AppSetting.value).where(AppSetting.key == KEY))
    stored = dict(row or {})
    encrypted = stored.pop("dkim_private_key_encrypted", "")
    known = {f.name for f in fields(OrgSettings)}
    values = {k: v for k, v in stored.items() if k in known}
    values["dkim_private_key"] = secret_box.decrypt(encrypted.encode()) if encrypted else ""
    return OrgSettings(**values)


def validate(data: Mapping[str, Any], current: OrgSettings) -> OrgSettings:
    errors: dict[str, str] = {}
    values = asdict(current)
    limits = {"organisation_name": 200, "postal_address": 500, "default_from_name": 200,
              "dkim_domain": 255, "dkim_selector": 63}
    for name, limit in limits.items():
        if name in data:
            try:
                values[name] = text_field(data[name], name.replace("_", " ").capitalize(), limit)
            except ValueError as exc:
                errors[name] = str(exc)
    for name in ("default_from_email", "unsubscribe_mailto"):
        if name in data:
            raw = str(data[name] or "").strip()
            try:
                values[name] = normalize_email(raw) if raw else ""
            except ValueError as exc:
                errors[name] = str(exc)
    key = str(data.get("dkim_private_key") or "").strip()
    if key:  # blank means "keep the current key"
        if "PRIVATE KEY-----" not in key:
            errors["dkim_private_key"] = "Paste a PEM private key (-----BEGIN PRIVATE KEY----- ...)."
        values["dkim_private_key"] = key
    if data.get("dkim_remove_key"):
        values["dkim_private_key"] = ""
    if errors:
        raise ValidationFailed(errors)
    return OrgSettings(**values)


async def save(session: AsyncSession, settings: OrgSettings) -> None:
    stored = asdict(settings)
    key = stored.pop("dkim_private_key")
    stored["dkim_private_key_encrypted"] = secret_box.encrypt(key).decode() if key else ""
    statement = insert(AppSetting).values(key=KEY, value=stored)
    await session.execute(statement.on_conflict_do_update(index_elements=[AppSetting.key], set_={"value": stored}))
