"""Where Mailroom accepts provider webhooks from (Settings → Feedback sources): per provider the
credentials its requests are checked with. A provider without them is not configured, and its
endpoint answers 404, so nothing is accepted by default. Secrets are encrypted at rest with
secret_box, like SMTP passwords, and never shown again; the SendGrid key is a public key and is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.errors import ValidationFailed
from webapp.core.schemas import load as load_input
from webapp.settings import queries
from webapp.settings.schemas import FeedbackSourcesInput

KEY = "feedback_sources"
ENCRYPTED = ("sendgrid_key", "postmark_password", "mailgun_key", "generic_secret")
# The public URL path of each provider's endpoint, to paste into the provider's console.
PATHS = {
    "ses": "/webhooks/amazon-ses",
    "sendgrid": "/webhooks/sendgrid",
    "postmark": "/webhooks/postmark",
    "mailgun": "/webhooks/mailgun",
    "generic": "/webhooks/generic",
}


@dataclass(frozen=True)
class FeedbackSources:
    ses_topics: tuple[str, ...] = ()
    sendgrid_key: str = ""
    postmark_user: str = ""
    postmark_password: str = ""
    mailgun_key: str = ""
    generic_secret: str = ""

    def configured(self, provider: str) -> bool:
        return {
            "ses": bool(self.ses_topics),
            "sendgrid": bool(self.sendgrid_key),
            "postmark": bool(self.postmark_user and self.postmark_password),
            "mailgun": bool(self.mailgun_key),
            "generic": bool(self.generic_secret),
        }[provider]


async def load(session: AsyncSession) -> FeedbackSources:
    stored = dict(await queries.setting(session, KEY) or {})
    values: dict[str, Any] = {"ses_topics": tuple(stored.get("ses_topics") or ())}
    values["postmark_user"] = stored.get("postmark_user") or ""
    for name in ENCRYPTED:
        encrypted = stored.get(f"{name}_encrypted") or ""
        values[name] = secret_box.decrypt(encrypted.encode()) if encrypted else ""
    return FeedbackSources(**values)


async def save(session: AsyncSession, sources: FeedbackSources) -> None:
    stored = asdict(sources)
    for name in ENCRYPTED:
        secret = stored.pop(name)
        stored[f"{name}_encrypted"] = secret_box.encrypt(secret).decode() if secret else ""
    stored["ses_topics"] = list(sources.ses_topics)
    await queries.save_setting(session, KEY, stored)


async def update(session: AsyncSession, data: Mapping[str, Any]) -> FeedbackSources:
    """Save the form (FeedbackSourcesInput); ValidationFailed names every problem."""
    values = load_input(FeedbackSourcesInput, data)
    saved = await load(session)
    for secret, remove in (("mailgun_key", "mailgun_remove"), ("generic_secret", "generic_remove")):
        if values.pop(remove, False):
            values[secret] = ""
        elif not values.get(secret):  # blank keeps the saved one
            values.pop(secret, None)
    if not values.get("postmark_password"):
        values.pop("postmark_password", None)
    if values.get("postmark_user") and not (values.get("postmark_password") or saved.postmark_password):
        raise ValidationFailed({"postmark_password": "Enter the password Postmark will send with this user."})
    if "postmark_user" in values and not values["postmark_user"]:
        values["postmark_password"] = ""  # no user: Postmark is switched off, its password forgotten
    sources = replace(saved, **values)
    await save(session, sources)
    return sources
