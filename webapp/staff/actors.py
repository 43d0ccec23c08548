"""The password reset email, sent by a worker: the web app decides whether one is due
(service/password_reset.py) and enqueues the account's id."""

from __future__ import annotations

import asyncio
import logging

import dramatiq

from webapp.core import i18n
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.delivery import system_mail
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before the actor is declared)
from webapp.delivery.mailer import PermanentFailure
from webapp.settings.service import organisation as org_settings
from webapp.staff.models import User
from webapp.staff.service.password_reset import RESET_LINK_SECONDS, reset_token

log = logging.getLogger("mailroom.staff")

# A failed send is retried up to 5 times, 5 s later at first, the wait doubling up to 5 minutes:
# a link is worth sending only while the person still waits for it.
MAX_RETRIES, MIN_BACKOFF_MS, MAX_BACKOFF_MS = 5, 5_000, 300_000
TIME_LIMIT_MS = 60_000
SUBJECT = "Choose a new Mailroom password"


@dramatiq.actor(
    queue_name="staff",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
)
async def send_password_reset(user_id: int) -> None:
    async with get_sessionmaker()() as session:
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            return
        org = await org_settings.load(session)
    context = {
        "name": user.name,
        "email": user.email,
        "reset_url": f"{get_settings().server.public_url}/login/reset/{reset_token(user)}",
        "minutes": RESET_LINK_SECONDS // 60,
    }
    html = i18n.render("staff/emails/password_reset.html", i18n.DEFAULT_LANGUAGE, **context)
    text = i18n.render("staff/emails/password_reset.txt", i18n.DEFAULT_LANGUAGE, **context)
    sent_from, message = system_mail.compose(org, user.email, SUBJECT, html, text, "password-reset")
    try:
        await system_mail.send(sent_from, user.email, message)
    except PermanentFailure as exc:  # the server refused it: retrying cannot help
        log.warning("password reset email for user %s refused: %s", user_id, exc)


async def enqueue_password_reset(user_id: int) -> None:
    """Queue the email (the broker client blocks, so off the event loop)."""
    await asyncio.to_thread(send_password_reset.send, user_id)
