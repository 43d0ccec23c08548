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
- An address whose opt-out the suppression list keeps (its contact deleted since) confirms first
  like any opted-out contact, and comes back as a contact with that opt-out as its status.
- Suppression: confirming (or joining from the preference centre) lifts the address's own bounce or
  unsubscribe suppression, since its owner just proved the mailbox works and asked for mail. A
  complaint, manual or compliance suppression is staff's decision: it stays, and such addresses get
  no confirmation email either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import triggers
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact, ContactStatus
from webapp.core.errors import NotFound
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.lists.models import EmailList, ListType
from webapp.scoring import service as scoring
from webapp.subscriptions import queries
from webapp.subscriptions.models import Subscription, SubscriptionStatus
from webapp.subscriptions.schemas import ConsentedSignup, Origin, Signup
from webapp.subscriptions.service.tokens import ConfirmLink
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression
from webapp.webhooks.service import outbox as webhook_events

# Statuses that a sign-up alone must not undo: the owner of the address confirms first.
OPTED_OUT = set(contacts.OPT_OUT_REASONS)
# Opting out of everything: opting into some lists again is no consent to the others.
LEFT_EVERYTHING = {ContactStatus.UNSUBSCRIBED.value, ContactStatus.COMPLAINED.value}
LIFTED_BY_OPT_IN = {SuppressionReason.BOUNCE.value, SuppressionReason.UNSUBSCRIBE.value}
SOURCES = {"page", "form"}  # the hosted page, an embedded form on another site
SUBSCRIBER = "subscriber"  # who made a change the subscriber asked for, in the audit log and suppressions


def is_open_for_signup(email_list: EmailList) -> bool:
    return email_list.is_public and email_list.is_active and email_list.list_type == ListType.STATIC.value


async def public_list(session: AsyncSession, list_id: int) -> EmailList:
    email_list = await session.get(EmailList, list_id) if is_valid_id(list_id) else None
    if email_list is None or not is_open_for_signup(email_list):
        raise NotFound("This subscription page does not exist.")
    return email_list


async def public_lists(session: AsyncSession) -> list[EmailList]:
    return await queries.public_lists(session)


@dataclass(frozen=True)
class SignedUp:
    email: str  # the address as stored
    pending_id: int | None  # the pending subscription whose confirmation email is due, if any


async def subscribe(
    session: AsyncSession, email_list: EmailList, data: Mapping[str, Any], origin: Origin, language: str
) -> SignedUp:
    """Sign an address up (the form's fields, as Signup names them). ValidationFailed names every
    problem with a catalog message id, for the page to translate."""
    values = load(ConsentedSignup if email_list.consent_text else Signup, data)
    email = values["email"]
    # An opt-out the suppression list keeps (its contact deleted and maybe added again since) holds
    # until the owner confirms, whatever the contact's status says; a new contact starts with it.
    kept = await contacts.opted_out_status(session, email)
    first_status = kept or (ContactStatus.PENDING.value if email_list.double_opt_in else ContactStatus.ACTIVE.value)
    contact, created = await queries.contact_for_signup(
        session, email, values.get("first_name", ""), first_status, language
    )
    if created:  # pending until confirmed where the list asks for that
        await webhook_events.emit(session, "contact.created", contacts.webhook_data(contact))
    receiving = contact.status == ContactStatus.ACTIVE.value and kept is None
    if receiving and await queries.is_member(session, contact.id, email_list.id):
        return SignedUp(email, None)
    confirm_first = email_list.double_opt_in or contact.status in OPTED_OUT or kept is not None
    status = SubscriptionStatus.PENDING if confirm_first else SubscriptionStatus.CONFIRMED
    record_id = await queries.save_consent(
        session, contact.id, email_list.id, status.value, origin, email_list.consent_text
    )
    await scoring.refresh(session, [contact.id], "Sent a sign-up form")
    if confirm_first:
        return SignedUp(email, record_id)
    await queries.add_member(session, contact.id, email_list.id)
    if contact.status == ContactStatus.PENDING.value:
        contact.status = ContactStatus.ACTIVE.value
    await _confirmed(session, contact.id, email_list.id)
    return SignedUp(email, None)


class Confirmation(StrEnum):
    ASKED = "asked"  # genuine and pending: the page asks its owner to press Confirm
    CONFIRMED = "confirmed"  # now (or already) on the list
    EXPIRED = "expired"  # genuine link, too old, subscription still pending: a new link can be sent
    INVALID = "invalid"  # forged, damaged, or the subscription is gone or was left since
    BLOCKED = "blocked"  # the address is suppressed by staff's decision (a complaint ...) since the link was sent


@dataclass(frozen=True)
class ConfirmResult:
    outcome: Confirmation
    contact_id: int | None = None
    contact_language: str | None = None
    list_name: str = ""
    list_id: int | None = None


async def look_at_confirmation(session: AsyncSession, link: ConfirmLink | None) -> ConfirmResult:
    """What following the link shows, changing nothing: mail scanners follow links too, so only
    pressing the page's Confirm button (confirm) subscribes."""
    result, _ = await _confirmation(session, link, lock=False)
    return result


async def confirm(session: AsyncSession, link: ConfirmLink | None) -> ConfirmResult:
    result, subscription = await _confirmation(session, link, lock=True)
    if result.outcome is not Confirmation.ASKED or subscription is None:
        return result
    await queries.mark_confirmed(session, subscription.id)
    await scoring.refresh(session, [subscription.contact_id], "Confirmed a subscription")
    await queries.add_member(session, subscription.contact_id, subscription.list_id)
    await reactivate(session, subscription.contact_id, keep_list_ids={subscription.list_id})
    await _confirmed(session, subscription.contact_id, subscription.list_id)
    return replace(result, outcome=Confirmation.CONFIRMED)


async def _confirmation(
    session: AsyncSession, link: ConfirmLink | None, *, lock: bool
) -> tuple[ConfirmResult, Subscription | None]:
    if link is None:
        return ConfirmResult(Confirmation.INVALID), None
    subscription = await queries.subscription_of_link(session, link.subscription_id, link.list_id, lock=lock)
    if subscription is None or subscription.status == SubscriptionStatus.UNSUBSCRIBED.value:
        return ConfirmResult(Confirmation.INVALID), None
    found = await _contact_and_list(session, subscription)
    if found is None:
        return ConfirmResult(Confirmation.INVALID), None
    contact, email_list = found
    about = (contact.id, contact.language, email_list.name, email_list.id)
    if subscription.status == SubscriptionStatus.CONFIRMED.value:
        return ConfirmResult(Confirmation.CONFIRMED, *about), subscription  # a second click
    if link.expired:
        return ConfirmResult(Confirmation.EXPIRED, *about), subscription
    if not await may_receive_confirmation(session, contact.email):
        return ConfirmResult(Confirmation.BLOCKED, *about), subscription
    return ConfirmResult(Confirmation.ASKED, *about), subscription


async def reactivate(session: AsyncSession, contact_id: int, keep_list_ids: set[int]) -> None:
    """The owner of the address has just opted in: make the contact active (and lift its own
    bounce or unsubscribe suppression). An address that staff suppressed (a complaint, by hand, for
    compliance) stays as it is: the callers do not offer an opt-in to it (may_receive_confirmation).

    A contact who had unsubscribed (or complained) opted out of everything; opting into some lists
    again is not consent to the others, so its other memberships end here (their consent records
    are marked unsubscribed). A bounced contact never asked to leave and keeps its lists.
    """
    contact = await queries.contact_for_update(session, contact_id)
    if contact is None:
        return
    entry = await suppression.status_of(session, contact.email)
    if entry is not None and entry.reason not in LIFTED_BY_OPT_IN:
        return  # a complaint, manual or compliance suppression is staff's to lift, not an opt-in's
    if entry is not None:
        await suppression.remove(session, entry.id, "The subscriber confirmed a new subscription.", actor=SUBSCRIBER)
    if contact.status == ContactStatus.ACTIVE.value:
        return
    if contact.status in LEFT_EVERYTHING:
        for list_id in await queries.member_list_ids(session, contact_id, besides=keep_list_ids):
            await leave(session, contact_id, list_id, Origin("resubscribed elsewhere"))
    contact.status = ContactStatus.ACTIVE.value


async def may_receive_confirmation(session: AsyncSession, email: str) -> bool:
    """False for addresses staff suppressed for a complaint, by hand or for compliance."""
    entry = await suppression.status_of(session, email)
    return entry is None or entry.reason in LIFTED_BY_OPT_IN


@dataclass(frozen=True)
class PendingConfirmation:
    """A subscription still waiting for its owner to follow the confirmation link."""

    subscription_id: int
    contact: Contact
    email_list: EmailList
    source: str  # the consent record's: a sign-up form, or staff's re-permission request


async def pending_confirmation(session: AsyncSession, subscription_id: int) -> PendingConfirmation | None:
    """The pending subscription with its contact and list; None once it was confirmed, left or deleted."""
    subscription = await session.get(Subscription, subscription_id) if is_valid_id(subscription_id) else None
    if subscription is None or subscription.status != SubscriptionStatus.PENDING.value:
        return None
    found = await _contact_and_list(session, subscription)
    return PendingConfirmation(subscription.id, *found, subscription.source) if found else None


async def _contact_and_list(session: AsyncSession, subscription: Subscription) -> tuple[Contact, EmailList] | None:
    contact = await session.get(Contact, subscription.contact_id)
    email_list = await session.get(EmailList, subscription.list_id)
    return (contact, email_list) if contact and email_list else None  # both cascade-delete the record


async def join(session: AsyncSession, contact_id: int, email_list: EmailList, origin: Origin) -> None:
    """Join a public list from the preference centre: the link came by email, so the address is
    proven and the membership is confirmed at once."""
    confirmed = SubscriptionStatus.CONFIRMED.value
    await queries.save_consent(session, contact_id, email_list.id, confirmed, origin, email_list.consent_text)
    await queries.add_member(session, contact_id, email_list.id)
    await _confirmed(session, contact_id, email_list.id)


async def _confirmed(session: AsyncSession, contact_id: int, list_id: int) -> None:
    """A confirmed member now: automations that start when someone joins the list, or confirms a
    subscription to it, take the contact (flushed first: they enrol only a contact who may be mailed)."""
    await session.flush()
    await triggers.signal(session, "subscription_confirmed", [contact_id], list_id=list_id)
    await triggers.signal(session, "list_joined", [contact_id], list_id=list_id)


async def leave(session: AsyncSession, contact_id: int, list_id: int, origin: Origin) -> None:
    """Off the list, with the consent record saying so (one is created for members staff added)."""
    await queries.remove_member(session, contact_id, list_id)
    await queries.record_leaving(session, contact_id, list_id, origin)


async def unsubscribe_all(session: AsyncSession, contact_id: int, origin: Origin) -> None:
    """No more marketing mail: off every list, every consent record unsubscribed, contact unsubscribed,
    and the address on the suppression list, so the opt-out outlives the contact."""
    for list_id in await queries.member_list_ids(session, contact_id):
        await leave(session, contact_id, list_id, origin)
    await queries.unsubscribe_records(session, contact_id)
    changed = await queries.unsubscribe_contact(session, contact_id)
    if (contact := await session.get(Contact, contact_id)) is not None:
        source = f"unsubscribe from all ({origin.source})"
        reason = SuppressionReason.UNSUBSCRIBE.value
        await suppression.add_many(session, [contact.email], reason, source=source, created_by=SUBSCRIBER)
        if changed:  # one event per opt-out, however many doors it came through
            await session.refresh(contact)
            event = contacts.webhook_data(contact) | {"source": origin.source}
            await webhook_events.emit(session, "contact.unsubscribed", event)
