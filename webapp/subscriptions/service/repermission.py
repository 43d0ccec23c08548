"""Re-permission requests: staff ask a contact who opted out whether they want mail again.

Only the subscriber can undo an opt-out, so a request is a double opt-in confirmation for one list
that staff choose: a pending consent record and the usual confirmation email (actors.py, with its
own wording). Nothing changes until the link is followed; following it confirms that list and
makes the contact active on it and on no other list (subscriptions.reactivate: leaving everything
is undone only list by list), lifting the address's unsubscribe or bounce suppression.

- Who can be asked: unsubscribed and bounced contacts (or addresses the suppression list keeps as
  such). Not a contact who complained: someone who reported our mail as spam is not mailed again by
  us. Not an address suppressed by staff (manual, compliance): that is removed on the suppression
  page first.
- At most one confirmation email per address per MAILROOM_SUBSCRIBE_RESEND_SECONDS (an hour),
  shared with the public sign-up (throttle.py): a request within that time is refused with the wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact, ContactStatus
from webapp.core.config import SubscriptionSettings
from webapp.core.errors import Conflict, TooManyAttempts, ValidationFailed
from webapp.core.schemas import load
from webapp.lists.models import EmailList, ListType
from webapp.lists.service import lists
from webapp.subscriptions import queries
from webapp.subscriptions.models import SubscriptionStatus
from webapp.subscriptions.schemas import Origin, RepermissionRequest
from webapp.subscriptions.service import throttle

REPERMISSION = "re-permission request"  # how the consent record's source starts
SECONDS_PER_MINUTE = 60


@dataclass(frozen=True)
class Requested:
    subscription_id: int  # the pending consent record whose confirmation email is due
    contact_id: int
    email: str
    email_list: EmailList


async def list_choices(session: AsyncSession) -> list[EmailList]:
    """The lists a contact may be asked to rejoin: active static lists."""
    active = await lists.all_lists(session, active_only=True)
    return [item for item in active if item.list_type == ListType.STATIC.value]


async def check_askable(session: AsyncSession, contact: Contact) -> None:
    """Conflict (with the reason) unless a re-permission request may go to this contact."""
    state = await contacts.state_of(session, contact)
    if state.may_ask_again:
        return
    if state.key == ContactStatus.COMPLAINED.value:
        raise Conflict(
            f"{contact.email} reported your mail as spam: no re-permission request is sent to them.", "status"
        )
    if state.key in contacts.OPT_OUT_REASONS or state.key == contacts.SUPPRESSED:
        raise Conflict(
            f"{contact.email} is on the suppression list by staff's decision: remove it there first if they may "
            "be asked again.",
            "status",
        )
    raise Conflict(f"{contact.email} has not opted out: there is nothing to ask.", "status")


async def request(
    session: AsyncSession,
    redis: Redis,
    settings: SubscriptionSettings,
    contact_id: int,
    data: Mapping[str, Any],
    requested_by: str,
) -> Requested:
    """Record a re-permission request (RepermissionRequest's fields) for the caller to enqueue its
    email once committed. ValidationFailed, Conflict (not askable) or TooManyAttempts (an email
    went to the address within the hour) leave nothing behind."""
    values = load(RepermissionRequest, data)
    contact = await contacts.get_contact(session, contact_id)
    await check_askable(session, contact)
    chosen = {item.id: item for item in await list_choices(session)}.get(values["list_id"])
    if chosen is None:
        why = f"List {values['list_id']} is not one they can be asked to rejoin: choose an active static list."
        raise ValidationFailed({"list_id": why})
    if (wait := await throttle.confirmation_email_wait(redis, settings, contact.email)) is not None:
        raise TooManyAttempts(
            f"A confirmation email went to {contact.email} less than {_minutes(settings.resend_interval_seconds)} "
            f"ago, and like sign-ups an address gets one at most in that time. Try again in {_minutes(wait)}.",
            wait,
        )
    origin = Origin(f"{REPERMISSION} by {requested_by}")
    pending = SubscriptionStatus.PENDING.value
    record_id = await queries.save_consent(session, contact.id, chosen.id, pending, origin, chosen.consent_text)
    return Requested(record_id, contact.id, contact.email, chosen)


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // SECONDS_PER_MINUTE))  # rounded up
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def is_repermission(source: str) -> bool:
    """Whether a consent record with this source was created by a re-permission request."""
    return source.startswith(REPERMISSION)
