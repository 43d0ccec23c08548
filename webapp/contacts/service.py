"""Contact rules: one address per contact (any case), opt-outs that only the subscriber can undo,
bulk tagging and deletion, and the contacts table's pages and counts for every feature that lists
contacts.

Opt-outs (unsubscribed, bounced, complained) are kept on the suppression list as well as in the
status, so they outlive the contact: an address added again comes back opted out. Staff cannot turn
an opt-out into a mailable status; the subscriber undoes it by confirming (subscriptions.reactivate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import triggers
from webapp.contacts.models import Contact, ContactStatus
from webapp.contacts.queries import filters as contact_filters
from webapp.contacts.queries import records, table
from webapp.contacts.queries.filters import decode_cursor
from webapp.contacts.queries.records import Selection as Selection  # for callers of the bulk functions
from webapp.contacts.queries.table import ContactPage as ContactPage  # for callers of page()
from webapp.contacts.schemas import ContactCreate, ContactFilter, ContactUpdate
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.queries import within_time_limit
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id, normalize_email, normalize_tags
from webapp.suppression.models import SuppressionReason
from webapp.suppression.schemas import Entry
from webapp.suppression.service import suppression
from webapp.webhooks.service import outbox as webhook_events

# Each opt-out status, and the suppression reason that keeps it when the contact is deleted.
SUPPRESSED = "suppressed"  # the state of a contact whose address staff put on the suppression list
OPT_OUT_REASONS = {
    ContactStatus.UNSUBSCRIBED.value: SuppressionReason.UNSUBSCRIBE.value,
    ContactStatus.BOUNCED.value: SuppressionReason.BOUNCE.value,
    ContactStatus.COMPLAINED.value: SuppressionReason.COMPLAINT.value,
}
OPT_OUT_OF_REASON = {reason: status for status, reason in OPT_OUT_REASONS.items()}
# Mail goes to these (pending: once confirmed), so staff never give them to an opted-out address.
MAILABLE = {ContactStatus.ACTIVE.value, ContactStatus.PENDING.value}
# A delete this big refreshes the table's statistics, which the contacts page's count estimates from.
FRESH_STATISTICS_AFTER = 5_000
SAVE_AS_IT_IS = "save the contact with its status as it is"
ONLY_THE_SUBSCRIBER = {
    ContactStatus.UNSUBSCRIBED.value: "{email} unsubscribed, so it cannot be made active or pending. Only they "
    "can opt in again, by confirming a re-permission request: {save}, then send one from its page.",
    ContactStatus.BOUNCED.value: "{email} bounced, so it cannot be made active or pending. Only the owner of the "
    "address can opt in again, by confirming a re-permission request: {save}, then send one from its page.",
    ContactStatus.COMPLAINED.value: "{email} reported your mail as spam, so it cannot be made active or pending. "
    "Only they can opt in again: if they ask to, take the complaint off the suppression list, then they sign "
    "up on a public form and confirm.",
}


def _duplicate(email: str, existing_id: int) -> Conflict:
    return Conflict(
        f"A contact with the address {email} already exists (contact #{existing_id}).", "email", existing_id
    )


async def check_email(session: AsyncSession, raw: Any, exclude_id: int | None = None) -> str:
    """The normalised address if it is valid and free; ValidationFailed or Conflict (naming the owner) if not."""
    try:
        email = normalize_email(raw)
    except ValueError as exc:
        raise ValidationFailed({"email": str(exc)}) from None
    exclude = exclude_id if exclude_id is not None and is_valid_id(exclude_id) else None
    if (existing := await records.id_by_email(session, email, exclude)) is not None:
        raise _duplicate(email, existing)
    return email


async def id_by_email(session: AsyncSession, email: str) -> int | None:
    """The contact with this (normalised) address in any case, if there is one."""
    return await records.id_by_email(session, email)


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id) if is_valid_id(contact_id) else None
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


async def named_in(session: AsyncSession, values: Mapping[str, Any]) -> int:
    """The id of the contact an API body names by `contact_id` or `email`; ValidationFailed naming
    the field when there is none."""
    if "contact_id" in values:
        try:
            return (await get_contact(session, values["contact_id"])).id
        except NotFound:
            raise ValidationFailed({"contact_id": "No contact has this id."}) from None
    found = await id_by_email(session, values["email"])
    if found is None:
        raise ValidationFailed({"email": "No contact has this address."})
    return found


async def create_contact(session: AsyncSession, data: Mapping[str, Any], *, by: str = "") -> Contact:
    """A new contact; an address that opted out before comes back with that opt-out as its status.
    `by`: who is adding it (core.api.creator), recorded with an opt-out it is given."""
    values = load(ContactCreate, data)
    if (existing := await records.id_by_email(session, values["email"])) is not None:
        raise _duplicate(values["email"], existing)
    if (kept := await opted_out_status(session, values["email"])) is not None:
        if values.get("status") in MAILABLE:
            save = f"add the contact with the status {kept}"
            raise ValidationFailed({"status": ONLY_THE_SUBSCRIBER[kept].format(email=values["email"], save=save)})
        values.setdefault("status", kept)
    contact = Contact(**values)
    session.add(contact)
    try:
        await session.flush()
    except IntegrityError:  # lost a race with a concurrent insert of the same address
        await session.rollback()
        existing = await records.id_by_email(session, values["email"])
        raise _duplicate(values["email"], existing or 0) from None
    await _keep_opt_out(session, contact, by)
    await session.refresh(contact)
    await _retagged(session, contact.id, [], contact.tags)
    await webhook_events.emit(session, "contact.created", webhook_data(contact))
    return contact


def webhook_data(contact: Contact) -> dict[str, Any]:
    """A contact as webhooks describe it."""
    fields = ("email", "first_name", "last_name", "company", "status", "tags", "custom_fields")
    return {"contact_id": contact.id} | {name: getattr(contact, name) for name in fields}


async def update_contact(session: AsyncSession, contact_id: int, data: Mapping[str, Any], *, by: str = "") -> Contact:
    """The contact changed as `data` says (`by`, as for create_contact); nothing is written, and no
    webhook sent, when nothing differs."""
    contact = await get_contact(session, contact_id)
    values = load(ContactUpdate, data)
    if "email" in values and (existing := await records.id_by_email(session, values["email"], contact_id)) is not None:
        raise _duplicate(values["email"], existing)
    new_status = values.get("status", contact.status)
    if contact.status in OPT_OUT_REASONS and new_status in MAILABLE:
        message = ONLY_THE_SUBSCRIBER[contact.status].format(email=contact.email, save=SAVE_AS_IT_IS)
        raise ValidationFailed({"status": message})
    # As when a contact is added: an address's opt-out comes with it, whichever contact it moves to.
    new_email = values.get("email", contact.email)
    moves = new_email != contact.email or new_status != contact.status
    if new_status in MAILABLE and moves and (kept := await opted_out_status(session, new_email)) is not None:
        if "status" in values:
            raise ValidationFailed({"status": ONLY_THE_SUBSCRIBER[kept].format(email=new_email, save=SAVE_AS_IT_IS)})
        values["status"] = new_status = kept
    changed_status = new_status != contact.status
    if new_email != contact.email and (reason := OPT_OUT_REASONS.get(contact.status)) is not None:
        # The address it leaves stays opted out (as when the contact is deleted), even if staff took
        # it off the suppression list: else it could be given to a new contact, mailable.
        await suppression.add_many(session, [contact.email], reason, source="contact's address changed while opted out")
    if all(getattr(contact, name) == value for name, value in values.items()):
        return contact
    tags_before = list(contact.tags)
    for name, value in values.items():
        setattr(contact, name, value)
    await session.flush()
    if changed_status:
        await _keep_opt_out(session, contact, by)
    await session.refresh(contact)
    await _retagged(session, contact.id, tags_before, contact.tags)
    await webhook_events.emit(session, "contact.updated", webhook_data(contact))
    return contact


async def opted_out_status(session: AsyncSession, email: str) -> str | None:
    """The opt-out status the suppression list keeps for this address (None: it keeps none)."""
    entry = await suppression.status_of(session, email)
    return OPT_OUT_OF_REASON.get(entry.reason) if entry else None


async def _keep_opt_out(session: AsyncSession, contact: Contact, by: str) -> None:
    """Staff, or a program with an API key, recorded an opt-out (the subscriber told them): it goes on
    the suppression list too."""
    if (reason := OPT_OUT_REASONS.get(contact.status)) is not None:
        source = "contact status set through the API" if by.startswith("api:") else "contact status set by staff"
        await suppression.add_many(session, [contact.email], reason, source=source, created_by=by)


@dataclass(frozen=True)
class MailState:
    """Whether a contact gets mail, as one state: its status, is_active and the suppression list
    together (an address added again after an opt-out is suppressed whatever its status says)."""

    key: str  # active, pending, inactive, suppressed, or an opt-out status (also the badge's class)
    label: str
    explanation: str
    since: datetime | None = None  # when the address went on the suppression list
    may_ask_again: bool = False  # a re-permission request may be sent (see subscriptions' service)


STATE_LABELS = {
    ContactStatus.UNSUBSCRIBED.value: (
        "Unsubscribed",
        "Receives no campaign mail. Only they can opt in again, by confirming: staff cannot make them "
        "active, but may send them a re-permission request.",
    ),
    ContactStatus.BOUNCED.value: (
        "Bounced",
        "Their mail server refused our mail for good, so the address receives no campaign mail. Only its "
        "owner can opt in again, by confirming: staff may send a re-permission request.",
    ),
    ContactStatus.COMPLAINED.value: (
        "Complained",
        "Reported our mail as spam: receives no campaign mail, and no request to opt in again is sent. "
        "Only they can opt in again, by signing up on a public form and confirming.",
    ),
    ContactStatus.PENDING.value: (
        "Waiting for confirmation",
        "Signed up and has not confirmed yet: receives no campaign mail until they do.",
    ),
    "inactive": ("Inactive", "Set inactive by staff: receives no mail until made active again."),
    ContactStatus.ACTIVE.value: ("Receives mail", "Receives campaign mail from the lists it is on."),
}


def mail_state(contact: Contact, entry: Entry | None) -> MailState:
    """The one state shown for a contact, given its address's suppression entry (if any)."""
    since = entry.since if entry else None
    opted_out = contact.status if contact.status in OPT_OUT_REASONS else None
    if opted_out is None and entry is not None:
        opted_out = OPT_OUT_OF_REASON.get(entry.reason)
    if opted_out is not None:
        askable = opted_out != ContactStatus.COMPLAINED.value and (entry is None or entry.reason in OPT_OUT_OF_REASON)
        return MailState(opted_out, *STATE_LABELS[opted_out], since, askable)
    if entry is not None:
        explanation = f"On the suppression list ({entry.reason}): receives no campaign mail."
        return MailState(SUPPRESSED, "Suppressed", explanation, since)
    key = contact.status if contact.status == ContactStatus.PENDING.value or contact.is_active else "inactive"
    return MailState(key, *STATE_LABELS[key])


async def state_of(session: AsyncSession, contact: Contact) -> MailState:
    return (await states_of(session, [contact]))[contact.id]


async def no_mail_reason(session: AsyncSession, email: str) -> str | None:
    """Why this address may get no mail of any kind, or None: its contact's state (an opt-out, the
    suppression list, switched off), or the suppression list's entry when it is no contact's."""
    contact_id = await records.id_by_email(session, email)
    if contact_id is None:
        entry = await suppression.status_of(session, email)
        return None if entry is None else f"it is on the suppression list ({entry.reason})"
    state = await state_of(session, await get_contact(session, contact_id))
    return None if state.key in MAILABLE else state.label.lower()


async def states_of(session: AsyncSession, contacts: Sequence[Contact]) -> dict[int, MailState]:
    """Each contact's mail state by id, with one look-up of the suppression list for them all."""
    entries = await suppression.entries_among(session, [c.email for c in contacts])
    return {c.id: mail_state(c, entries.get(c.email.lower())) for c in contacts}


async def delete_contacts(session: AsyncSession, which: Selection) -> int:
    """Delete them; an opted-out contact's address goes back on the suppression list first (if staff
    took it off), so that the opt-out outlives the contact and the address cannot come back mailable."""
    opted_out = await records.addresses_with_status(session, which, list(OPT_OUT_REASONS))
    for status, reason in OPT_OUT_REASONS.items():
        emails = [email for email, its_status in opted_out if its_status == status]
        await suppression.add_many(session, emails, reason, source="contact deleted while opted out")
    deleted = await records.delete_many(session, which)
    if deleted >= FRESH_STATISTICS_AFTER:
        await records.analyze(session)  # else the contacts page's estimate counts them for minutes
    return deleted


async def add_tag(session: AsyncSession, which: Selection, raw_tag: str) -> int:
    """Tag the contacts that do not have it yet (automations triggered by the tag take them); how
    many changed. A contact with MAX_TAGS tags already is left as it is (count_full says how many)."""
    tag = one_tag(raw_tag)
    return await _tags_changed(session, "tag_added", tag, await records.add_tag(session, which, tag))


async def count_full(session: AsyncSession, which: Selection, raw_tag: str) -> int:
    """Of these, the contacts a tag cannot be added to: MAX_TAGS tags already, this one not among them."""
    return await records.count_full(session, which, one_tag(raw_tag))


async def remove_tag(session: AsyncSession, which: Selection, raw_tag: str) -> int:
    tag = one_tag(raw_tag)
    return await _tags_changed(session, "tag_removed", tag, await records.remove_tag(session, which, tag))


async def _retagged(session: AsyncSession, contact_id: int, before: Sequence[str], after: Sequence[str]) -> None:
    """Automations triggered by a tag the contact gained or lost take it."""
    for tag in after:
        if tag not in before:
            await triggers.signal(session, "tag_added", [contact_id], tag=tag)
    for tag in before:
        if tag not in after:
            await triggers.signal(session, "tag_removed", [contact_id], tag=tag)


async def _tags_changed(session: AsyncSession, kind: str, tag: str, contact_ids: list[int]) -> int:
    await triggers.signal(session, kind, contact_ids, tag=tag)
    return len(contact_ids)


async def count_exactly(session: AsyncSession, which: Selection) -> int:
    """How many contacts a bulk action on these would reach (a count, not the planner's estimate)."""
    return await records.count(session, which)


def one_tag(raw_tag: str) -> str:
    """The tag a bulk action adds or removes, normalised; ValidationFailed if there is none, or more
    than one: elsewhere a comma separates tags, so a tag with one in it would split at its next save."""
    if "," in (raw_tag or ""):
        raise ValidationFailed({"tag": "One tag at a time: a tag cannot contain a comma."})
    try:
        tags = normalize_tags([raw_tag or ""])
    except ValueError as exc:
        raise ValidationFailed({"tag": str(exc)}) from None
    if not tags:
        raise ValidationFailed({"tag": "Enter a tag."})
    return tags[0]


async def page(
    session: AsyncSession,
    filters: ContactFilter,
    *,
    sort: str = "newest",
    cursor: str | None = None,
    limit: int = 50,
) -> ContactPage:
    """One keyset page of the contacts matching `filters` (see queries/table.py for how)."""
    return await table.page(session, filters, sort=sort, cursor=cursor, limit=limit)


async def count(session: AsyncSession, filters: ContactFilter, known: ContactPage | None = None) -> tuple[int, bool]:
    """(how many contacts match, whether that is exact rather than the planner's estimate)."""
    return await table.estimate_count(session, filters, known)


def is_cursor(cursor: str, sort: str) -> bool:
    return decode_cursor(cursor, sort) is not None


def chosen(which: Selection) -> ColumnElement[bool]:
    """The contacts a bulk action reaches, as a predicate for other features' statements."""
    return records.chosen(which)


def matching(filters: ContactFilter) -> ColumnElement[bool] | None:
    """The filters as one SQL predicate over contacts, for other features' queries (None: no filter)."""
    return contact_filters.condition(filters)


CUSTOM_FIELDS_CHECK_SECONDS = 2.0


async def custom_fields_used(session: AsyncSession, names: Sequence[str]) -> set[str] | None:
    """Which of `names` any contact has as a custom field, however old: for the names a sample of
    the newest contacts did not show. None when the check ran past its time limit (no answer)."""
    if not names:
        return set()
    return await within_time_limit(session, CUSTOM_FIELDS_CHECK_SECONDS, records.custom_fields_used(session, names))
