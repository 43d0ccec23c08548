"""The double opt-in confirmation email (also a re-permission request's) and the email with a link to
download one's data, sent by a worker through the configured mailer in the subscriber's language. The
web app decides whether one is due (at most one per address per hour, see service/throttle.py) and
enqueues the subscription's or contact's id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dramatiq

from webapp.contacts.models import Contact
from webapp.core import i18n
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.i18n import N_
from webapp.core.redis import get_redis
from webapp.delivery import system_mail
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before the actor is declared)
from webapp.delivery.mailer import PermanentFailure
from webapp.lists.models import EmailList
from webapp.settings.service import organisation as org_settings
from webapp.settings.service.organisation import OrgSettings
from webapp.subscriptions.service import repermission, subscriptions
from webapp.subscriptions.service.tokens import DATA_LINK_HOURS, confirm_token, data_token, preferences_token

log = logging.getLogger("mailroom.subscriptions")

# A failed send is retried up to 8 times, 5 s later at first, the wait doubling up to 10 minutes.
MAX_RETRIES, MIN_BACKOFF_MS, MAX_BACKOFF_MS = 8, 5_000, 600_000
TIME_LIMIT_MS = 120_000
SUBJECT = N_("Confirm your subscription to %(list)s")
REPERMISSION_SUBJECT = N_("Would you like to receive %(list)s again?")
DATA_SUBJECT = N_("Your data: a link to download it")
# The claim on a subscription's email ends this long before the web app allows the next one.
CLAIM_MARGIN_SECONDS, MIN_CLAIM_SECONDS = 600, 60


def compose(
    contact: Contact, email_list: EmailList, subscription_id: int, org: OrgSettings, *, repermission: bool = False
) -> tuple[str, bytes]:
    """(from address, message bytes) of one confirmation email; `repermission`: staff ask a contact
    who opted out whether they want the list again (service/repermission.py)."""
    settings = get_settings()
    base_url = settings.server.public_url
    language = i18n.normalise(contact.language) or i18n.DEFAULT_LANGUAGE
    context = {
        "org": org,
        "list_name": email_list.name,
        "first_name": contact.first_name,
        "confirm_url": f"{base_url}/subscribe/confirm/{confirm_token(subscription_id, email_list.id)}",
        "preferences_url": f"{base_url}/u/preferences/{preferences_token(contact.id)}",
        "hours": settings.subscriptions.confirm_max_age_hours,
        "repermission": repermission,
    }
    html = i18n.render("subscriptions/emails/confirm_subscription.html", language, **context)
    text = i18n.render("subscriptions/emails/confirm_subscription.txt", language, **context)
    subject = i18n.translate(language, REPERMISSION_SUBJECT if repermission else SUBJECT, list=email_list.name)
    return system_mail.compose(org, contact.email, subject, html, text, "confirm")


@asynccontextmanager
async def _sent_once(claim_key: str) -> AsyncIterator[bool]:
    """Whether this run sends the email. Idempotent: a run of the same message again (a retry after
    the mail went out, a redelivery after a crash) finds the claim and stops; the claim lasts a
    little less than the web app's once-an-hour gap, so the next request's message is never blocked
    by it. A refusal by the server ends the message (retrying cannot help); any other error lifts the
    claim for the retry."""
    redis = get_redis()
    claim_seconds = max(MIN_CLAIM_SECONDS, get_settings().subscriptions.resend_interval_seconds - CLAIM_MARGIN_SECONDS)
    if not await redis.set(claim_key, "1", nx=True, ex=claim_seconds):
        yield False
        return
    try:
        yield True
    except PermanentFailure as exc:
        log.warning("%s refused: %s", claim_key, exc)
    except BaseException:
        await redis.delete(claim_key)
        raise


@dramatiq.actor(
    queue_name="subscriptions",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
)
async def send_confirmation(subscription_id: int) -> None:
    """Mail the confirmation link of a pending subscription."""
    async with _sent_once(f"subscription:{subscription_id}:confirmation-mail") as sending:
        if not sending:
            return
        async with get_sessionmaker()() as session:
            pending = await subscriptions.pending_confirmation(session, subscription_id)
            if pending is None:
                return  # confirmed or left meanwhile, or deleted
            org = await org_settings.load(session)
            if not await subscriptions.may_receive_confirmation(session, pending.contact.email):
                log.info("no confirmation email for subscription %s: the address is suppressed", subscription_id)
                return
        asking_again = repermission.is_repermission(pending.source)
        sent_from, message = compose(
            pending.contact, pending.email_list, subscription_id, org, repermission=asking_again
        )
        await system_mail.send(sent_from, pending.contact.email, message)


def compose_data_link(contact: Contact, org: OrgSettings, page_language: str = "") -> tuple[str, bytes]:
    """(from address, message bytes) of the email with a link to download everything kept about the
    contact, in the language of the page it was asked for on, else the contact's."""
    base_url = get_settings().server.public_url
    language = i18n.normalise(page_language) or i18n.normalise(contact.language) or i18n.DEFAULT_LANGUAGE
    context = {
        "org": org,
        "first_name": contact.first_name,
        "data_url": f"{base_url}/u/data/{data_token(contact.id)}",
        "preferences_url": f"{base_url}/u/preferences/{preferences_token(contact.id)}",
        "hours": DATA_LINK_HOURS,
    }
    html = i18n.render("subscriptions/emails/my_data.html", language, **context)
    text = i18n.render("subscriptions/emails/my_data.txt", language, **context)
    subject = i18n.translate(language, DATA_SUBJECT)
    return system_mail.compose(org, contact.email, subject, html, text, "data")


@dramatiq.actor(
    queue_name="subscriptions",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
)
async def send_data_link(contact_id: int, page_language: str = "") -> None:
    """Mail the contact a link to download its data, asked for in the preference centre: the email
    goes only to the address's owner, where the preference centre's link may have been forwarded."""
    async with _sent_once(f"contact:{contact_id}:data-mail") as sending:
        if not sending:
            return
        async with get_sessionmaker()() as session:
            contact = await session.get(Contact, contact_id)
            if contact is None:
                return  # erased meanwhile
            org = await org_settings.load(session)
            if not await subscriptions.may_receive_confirmation(session, contact.email):
                log.info("no data link for contact %s: the address is suppressed", contact_id)
                return
        sent_from, message = compose_data_link(contact, org, page_language)
        await system_mail.send(sent_from, contact.email, message)


async def enqueue_data_link(contact_id: int, page_language: str) -> None:
    await asyncio.to_thread(send_data_link.send, contact_id, page_language)


async def enqueue_confirmation(subscription_id: int) -> None:
    """Queue the confirmation email of a committed subscription (the broker client blocks, so off
    the event loop)."""
    await asyncio.to_thread(send_confirmation.send, subscription_id)
