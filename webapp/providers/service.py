"""API providers admins configure: validation per kind, where a typed API address leads (the SSRF
rule of core/addresses.py: a private one only when allowed), storage (secrets encrypted at rest
with secret_box as one JSON document, never shown again; a blank secret keeps the saved one), and
the result of a Test recorded as the provider's last error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.addresses import RefusedAddress, checked_url, is_public
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.providers import queries
from webapp.providers.models import Provider
from webapp.providers.schemas import AWS_REGION, KIND_NAMES, SECRETS, SETTINGS, ProviderInput
from webapp.settings.service import smtp_servers

DEFAULT_SES_REGION = "us-east-1"
# Also checked when the transports connect (webapp/core/checked_http.py).
# The API key goes with every request: over the internet only encrypted. http:// is for a test server
# or a proxy on one's own network (which "Allow a private address" admits), whatever is ticked.
PLAIN_HTTP = (
    "Use https://: over http:// the API key would cross the internet unencrypted. "
    "(http:// is only for a server on your own network, with “Allow a private address” ticked.)"
)
REFUSED = "an API address may only be private when “Allow a private address” is ticked."


def credentials(provider: Provider) -> dict[str, str]:
    """The provider's secrets, decrypted ({} when none, or saved under another secret key)."""
    plain = secret_box.decrypt(provider.credentials_encrypted)
    return json.loads(plain) if plain else {}


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


async def _apply(session: AsyncSession, provider: Provider, data: Mapping[str, Any]) -> None:
    """The form's values onto the provider: its kind's settings and secrets only."""
    try:
        values = load(ProviderInput, data)
    except ValidationFailed as exc:  # with what the kind's own checks find in the rest, all at once
        kind = str(data.get("kind") or "")
        if kind not in SECRETS or "kind" in exc.errors:
            raise
        names = [name for name in (*SETTINGS[kind], *SECRETS[kind]) if name not in exc.errors]
        typed = {name: str(data.get(name) or "").strip() for name in names}
        more = await _kind_errors(provider, kind, typed | {"allow_private": data.get("allow_private")})
        raise ValidationFailed(more | exc.errors) from None
    kind = values["kind"]
    errors = await _kind_errors(provider, kind, values)
    if errors:
        raise ValidationFailed(errors)
    await smtp_servers.refuse_taken_name(session, values["name"], provider_id=provider.id)
    settings = _settings(kind, values)
    secrets = _secrets(provider, kind, values)
    for name in ("name", "kind", "batch_size", "rate_per_second", "rate_per_hour", "rate_per_day"):
        setattr(provider, name, values[name])
    provider.max_connections, provider.priority = values["max_connections"], values["priority"]
    provider.is_active = bool(values.get("is_active", True))
    provider.settings = settings
    provider.credentials_encrypted = secret_box.encrypt(json.dumps(secrets))


def _settings(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {name: values[name] for name in SETTINGS[kind] if values.get(name)}
    if values.get("allow_private"):
        settings["allow_private"] = True
    if kind == "ses":
        settings.setdefault("region", DEFAULT_SES_REGION)
    return settings


def _secrets(provider: Provider, kind: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The kind's secrets: those typed, else those saved (a secret field left blank keeps its value)."""
    kept = credentials(provider) if provider.kind == kind else {}
    return {name: values.get(name) or kept.get(name, "") for name in SECRETS[kind]}


async def _kind_errors(provider: Provider, kind: str, values: Mapping[str, Any]) -> dict[str, str]:
    """What the provider's kind needs that the values lack."""
    settings = _settings(kind, values)
    secrets = _secrets(provider, kind, values)
    errors = {name: "Enter it: the provider's API needs it." for name, value in secrets.items() if not value}
    if kind == "ses" and not AWS_REGION.fullmatch(settings["region"]):
        errors["region"] = "Enter an AWS region, e.g. eu-west-1."
    if kind == "mailgun":
        if not settings.get("domain"):
            errors["domain"] = "Enter the sending domain set up in Mailgun, e.g. mg.example.com."
        if settings.get("region", "us") not in ("us", "eu"):
            errors["region"] = "Choose the US or the EU region: us or eu."
    if base_url := settings.get("base_url"):  # the services' own addresses are public: not looked up
        try:
            target = await checked_url(base_url, allow_private=bool(settings.get("allow_private")), refused=REFUSED)
        except RefusedAddress as exc:
            errors["base_url"] = str(exc)
        else:
            if base_url.lower().startswith("http://") and is_public(target.address):
                errors["base_url"] = PLAIN_HTTP
    return errors


async def list_providers(session: AsyncSession, *, active_only: bool = False) -> list[Provider]:
    return await queries.providers(session, active_only=active_only)


async def get_provider(session: AsyncSession, provider_id: int) -> Provider:
    provider = await session.get(Provider, provider_id) if is_valid_id(provider_id) else None
    if provider is None:
        raise NotFound("That provider does not exist (it may have been deleted).")
    return provider


async def create_provider(session: AsyncSession, data: Mapping[str, Any]) -> Provider:
    provider = Provider(kind="")
    await _apply(session, provider, data)
    session.add(provider)
    await session.flush()
    return provider


async def update_provider(session: AsyncSession, provider_id: int, data: Mapping[str, Any]) -> Provider:
    provider = await get_provider(session, provider_id)
    await _apply(session, provider, data)
    await session.flush()
    return provider


async def delete_provider(session: AsyncSession, provider_id: int) -> Provider:
    provider = await get_provider(session, provider_id)
    await session.delete(provider)
    await session.flush()
    return provider


async def record_test(session: AsyncSession, provider: Provider, ok: bool, message: str) -> None:
    """A failed test is shown as the provider's last error; a passing one clears it."""
    provider.last_error = "" if ok else message
    provider.last_error_at = None if ok else datetime.now(UTC)
    await session.flush()
