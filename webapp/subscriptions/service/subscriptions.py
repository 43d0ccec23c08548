"""Public subscription: sign-ups on a public list's page or embedded form, double opt-in
confirmation, and joining or leaving lists from the preference centre.

Rules
- A list takes sign-ups when it is public, active and static (rule-based lists choose their own
  members).
- Every sign-up leaves a consent record (subscriptions row): when, from which form, IP, user agent
  and the consent text exactly as shown. list_members holds confirmed memberships only.
- Double opt-in lists, and any address whose contact is unsubscribed, bounced or complained (even on
  a single opt-in list), get a pending record and a confirmation email; nothing is sent to them until
  the link is followed. A new address becomes a 'pending' contact, which the send pipeline skips.
- An address that is already an active member is left as it is. The caller answers every case with
  the same page, so the form never tells whether an address is subscribed.
- A stranger can type anyone's address, so a sign-up never changes an existing contact's profile.
- Suppression: confirming (or joining from the preference centre) lifts the address's own bounce or
  unsubscribe suppression, since its owner just proved the mailbox works and asked for mail. A
  complaint, manual or compliance suppression is staff's decision: it stays, and such addresses get
  no confirmation email either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact, ContactStatus
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.i18n import N_
from webapp.core.validation import normalize_email, text_field
from webapp.lists.models import EmailList, ListMember, ListType, Subscription, SubscriptionStatus
from webapp.subscriptions.service.tokens import ConfirmLink
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression

# Statuses that a sign-up alone must not undo: the owner of the address confirms first.
OPTED_OUT = {ContactStatus.UNSUBSCRIBED.value, ContactStatus.BOUNCED.value, ContactStatus.COMPLAINED.value}
LIFTED_BY_OPT_IN = {SuppressionReason.BOUNCE.value, SuppressionReason.UNSUBSCRIBE.value}
SOURCES = {"page", "form"}  # the hosted page, an embedded form on another site
EMAIL_INVALID = N_("Enter a valid email address.")
NAME_TOO_LONG = N_("Your name is too long.")
CONSENT_MISSING = N_("Tick the box to agree before subscribing.")


@dataclass(frozen=True)
class Signup:
    email: str
    first_name: str
    consent_text: str  # what the form showed next to the ticked box ("" when the list asks none)


@dataclass(frozen=True)
class Request:
    """Where a sign-up or preference change came from, for the consent record."""

    source: str
    ip: str = ""
    user_agent: str = ""


def is_open_for_signup(email_list: EmailList | None) -> bool:
    return bool(
        email_list and email_list.is_public and email_list.is_active and email_list.list_type == ListType.STATIC.value
    )


async def public_list(session: AsyncSession, list_id: int) -> EmailList:
    email_list = await session.get(EmailList, list_id) if 0 < list_id < 2**63 else None
    if not is_open_for_signup(email_list):
        raise NotFound("This subscription page does not exist.")
    return email_list  # type: ignore[return-value]


async def public_lists(session: AsyncSession) -> list[EmailList]:
    return list(
        await session.scalars(
            select(EmailList)
            .where(EmailList.is_public, EmailList.is_active, EmailList.list_type == ListType.STATIC.value)
            .order_by(EmailList.name)
        )
    )


def validate_signup(data: Mapping[str, Any], email_list: EmailList) -> Signup:
    """The form's fields, or ValidationFailed whose messages are catalog message ids (the page
    translates them)."""
    errors: dict[str, str] = {}
    try:
        email = normalize_email(data.get("email"))
    except ValueError:
        email = ""
        errors["email"] = EMAIL_INVALID
    try:
        raw_name = data.get("first_name")
        first_name = text_field(
            raw_name.replace("\x00", "") if isinstance(raw_name, str) else raw_name, "First name", 200
        )
    except ValueError:
        first_name = ""
        errors["first_name"] = NAME_TOO_LONG
    if email_list.consent_text and not data.get("consent"):
        errors["consent"] = CONSENT_MISSING
    if errors:
        raise ValidationFailed(errors)
    return Signup(email=email, first_name=first_name, consent_text=email_list.consent_text)


async def _contact_for(session: AsyncSession, signup: Signup, status: str, language: str) -> Contact:
    """The contact with this address, created (as `status`) when there is none; locked."""
    await session.execute(
        insert(Contact)
        .values(email=signup.email, first_name=signup.first_name, status=status, language=language)
        .on_conflict_do_nothing()
    )
    contact = await session.scalar(
        select(Contact).where(func.lower(Contact.email) == signup.email.lower()).with_for_update()
    )
    assert contact is not None
    return contact


async def _record(
    session: AsyncSession, contact_id: int, list_id: int, status: str, origin: Request, consent_text: str
) -> int:
    """Create or refresh the consent record of a contact on a list; returns its id."""
    now = func.now()
    values = {
        "status": status,
        "source": origin.source[:200],
        "ip_address": origin.ip[:64],
        "user_agent": origin.user_agent[:1000],
        "consent_text": consent_text,
        "created_at": now,
        "confirmed_at": now if status == SubscriptionStatus.CONFIRMED.value else None,
        "unsubscribed_at": None,
    }
    statement = insert(Subscription).values(contact_id=contact_id, list_id=list_id, **values)
    statement = statement.on_conflict_do_update(index_elements=["contact_id", "list_id"], set_=values)
    return await session.scalar(statement.returning(Subscription.id))


async def _is_member(session: AsyncSession, contact_id: int, list_id: int) -> bool:
    return (
        await session.scalar(
            select(func.count())
            .select_from(ListMember)
            .where(ListMember.contact_id == contact_id, ListMember.list_id == list_id)
        )
        > 0
    )


async def _add_member(session: AsyncSession, contact_id: int, list_id: int) -> None:
    await session.execute(insert(ListMember).values(list_id=list_id, contact_id=contact_id).on_conflict_do_nothing())


async def subscribe(
    session: AsyncSession, email_list: EmailList, signup: Signup, origin: Request, language: str
) -> int | None:
    """Sign an address up. Returns the id of a pending subscription whose confirmation email is
    due, or None when nothing needs confirming (subscribed at once, or already a member)."""
    first_status = ContactStatus.PENDING.value if email_list.double_opt_in else ContactStatus.ACTIVE.value
    contact = await _contact_for(session, signup, first_status, language)
    if contact.status == ContactStatus.ACTIVE.value and await _is_member(session, contact.id, email_list.id):
        return None
    if email_list.double_opt_in or contact.status in OPTED_OUT:
        return await _record(
            session, contact.id, email_list.id, SubscriptionStatus.PENDING.value, origin, signup.consent_text
        )
    await _record(session, contact.id, email_list.id, SubscriptionStatus.CONFIRMED.value, origin, signup.consent_text)
    await _add_member(session, contact.id, email_list.id)
    if contact.status == ContactStatus.PENDING.value:
        contact.status = ContactStatus.ACTIVE.value
    return None


class Confirmation(StrEnum):
    CONFIRMED = "confirmed"  # now (or already) on the list
    EXPIRED = "expired"  # genuine link, too old, subscription still pending: a new link can be sent
    INVALID = "invalid"  # forged, damaged, or the subscription is gone or was left since


@dataclass(frozen=True)
class ConfirmResult:
    outcome: Confirmation
    contact_id: int | None = None
    list_name: str = ""
    list_id: int | None = None


async def confirm(session: AsyncSession, link: ConfirmLink | None) -> ConfirmResult:
    if link is None:
        return ConfirmResult(Confirmation.INVALID)
    subscription = await session.scalar(
        select(Subscription)
        .where(Subscription.id == link.subscription_id, Subscription.list_id == link.list_id)
        .with_for_update()
    )
    if subscription is None or subscription.status == SubscriptionStatus.UNSUBSCRIBED.value:
        return ConfirmResult(Confirmation.INVALID)
    email_list = await session.get(EmailList, subscription.list_id)
    result = ConfirmResult(Confirmation.CONFIRMED, subscription.contact_id, email_list.name, email_list.id)
    if subscription.status == SubscriptionStatus.CONFIRMED.value:
        return result  # a second click, or a mail scanner's visit first: same happy page
    if link.expired:
        return ConfirmResult(Confirmation.EXPIRED, subscription.contact_id, email_list.name, email_list.id)
    subscription.status = SubscriptionStatus.CONFIRMED.value
    subscription.confirmed_at = func.now()
    await _add_member(session, subscription.contact_id, subscription.list_id)
    await reactivate(session, subscription.contact_id, keep_list_ids={subscription.list_id})
    await session.flush()
    return result


async def reactivate(session: AsyncSession, contact_id: int, keep_list_ids: set[int]) -> None:
    """The owner of the address has just opted in: make the contact active (and lift its own
    bounce or unsubscribe suppression).

    A contact who had unsubscribed (or complained) opted out of everything; opting into some lists
    again is not consent to the others, so its other memberships end here (their consent records
    are marked unsubscribed). A bounced contact never asked to leave and keeps its lists.
    """
    contact = await session.scalar(select(Contact).where(Contact.id == contact_id).with_for_update())
    if contact is None:
        return
    entry = await suppression.status_of(session, contact.email)
    if entry is not None and entry.reason in LIFTED_BY_OPT_IN:
        await suppression.remove(session, entry.id, "The subscriber confirmed a new subscription.", actor="subscriber")
    if contact.status == ContactStatus.ACTIVE.value:
        return
    if contact.status in {ContactStatus.UNSUBSCRIBED.value, ContactStatus.COMPLAINED.value}:
        others = select(ListMember.list_id).where(
            ListMember.contact_id == contact_id, ListMember.list_id.not_in(keep_list_ids)
        )
        for list_id in list(await session.scalars(others)):
            await leave(session, contact_id, list_id, Request("resubscribed elsewhere"))
    contact.status = ContactStatus.ACTIVE.value


async def may_receive_confirmation(session: AsyncSession, email: str) -> bool:
    """False for addresses staff suppressed for a complaint, by hand or for compliance."""
    entry = await suppression.status_of(session, email)
    return entry is None or entry.reason in LIFTED_BY_OPT_IN


async def pending_subscription(session: AsyncSession, subscription_id: int) -> Subscription | None:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or subscription.status != SubscriptionStatus.PENDING.value:
        return None
    return subscription


async def join(session: AsyncSession, contact_id: int, email_list: EmailList, origin: Request) -> None:
    """Join a public list from the preference centre: the link came by email, so the address is
    proven and the membership is confirmed at once."""
    await _record(
        session, contact_id, email_list.id, SubscriptionStatus.CONFIRMED.value, origin, email_list.consent_text
    )
    await _add_member(session, contact_id, email_list.id)


async def leave(session: AsyncSession, contact_id: int, list_id: int, origin: Request) -> None:
    """Off the list, with the consent record saying so (one is created for members staff added)."""
    await session.execute(delete(ListMember).where(ListMember.contact_id == contact_id, ListMember.list_id == list_id))
    values = {"status": SubscriptionStatus.UNSUBSCRIBED.value, "unsubscribed_at": func.now()}
    statement = insert(Subscription).values(
        contact_id=contact_id,
        list_id=list_id,
        source=origin.source[:200],
        ip_address=origin.ip[:64],
        user_agent=origin.user_agent[:1000],
        **values,
    )
    await session.execute(statement.on_conflict_do_update(index_elements=["contact_id", "list_id"], set_=values))


async def unsubscribe_all(session: AsyncSession, contact_id: int, origin: Request) -> None:
    """No more marketing mail: off every list, every consent record unsubscribed, contact unsubscribed."""
    for list_id in list(await session.scalars(select(ListMember.list_id).where(ListMember.contact_id == contact_id))):
        await leave(session, contact_id, list_id, origin)
    await session.execute(
        update(Subscription)
        .where(Subscription.contact_id == contact_id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED.value)
        .values(status=SubscriptionStatus.UNSUBSCRIBED.value, unsubscribed_at=func.now())
    )
    await session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.status.in_([ContactStatus.ACTIVE.value, ContactStatus.PENDING.value]))
        .values(status=ContactStatus.UNSUBSCRIBED.value, last_updated=func.now())
    )
