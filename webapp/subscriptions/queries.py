"""The subscriptions feature's SQL: public lists, the contact a sign-up lands on, memberships, and
consent records (one per contact and list, created or refreshed in one upsert each)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact, ContactStatus
from webapp.core.db import rows_changed
from webapp.lists.models import EmailList, ListMember, ListType
from webapp.subscriptions.models import Subscription, SubscriptionStatus
from webapp.subscriptions.schemas import Origin

# Contacts an unsubscribe-all moves to 'unsubscribed'; a bounced or complained contact keeps its status.
STILL_MAILED = (ContactStatus.ACTIVE.value, ContactStatus.PENDING.value)


async def public_lists(session: AsyncSession) -> list[EmailList]:
    """The lists taking sign-ups (public, active, static), by name."""
    query = (
        select(EmailList)
        .where(EmailList.is_public, EmailList.is_active, EmailList.list_type == ListType.STATIC.value)
        .order_by(EmailList.name)
    )
    return list(await session.scalars(query))


async def active_lists_of(session: AsyncSession, contact_id: int) -> list[EmailList]:
    query = (
        select(EmailList)
        .join(ListMember, ListMember.list_id == EmailList.id)
        .where(ListMember.contact_id == contact_id, EmailList.is_active)
        .order_by(EmailList.name)
    )
    return list(await session.scalars(query))


async def contact_for_signup(
    session: AsyncSession, email: str, first_name: str, status: str, language: str
) -> tuple[Contact, bool]:
    """The contact with this address (any case), created with these values when there is none, and
    locked for the rest of the transaction, and whether it was created. ON CONFLICT DO NOTHING (on
    uq_contacts_email_lower) makes two sign-ups of a new address at once land on the one contact; an
    existing contact is untouched."""
    inserted = await session.scalar(
        insert(Contact)
        .values(email=email, first_name=first_name, status=status, language=language)
        .on_conflict_do_nothing()
        .returning(Contact.id)
    )
    contact = await session.scalar(select(Contact).where(func.lower(Contact.email) == email.lower()).with_for_update())
    assert contact is not None  # inserted above, or there already; contacts are not deleted mid-sign-up
    return contact, inserted is not None


async def contact_for_update(session: AsyncSession, contact_id: int) -> Contact | None:
    return await session.scalar(select(Contact).where(Contact.id == contact_id).with_for_update())


async def save_consent(
    session: AsyncSession, contact_id: int, list_id: int, status: str, origin: Origin, consent_text: str
) -> int:
    """Create or refresh the consent record of a contact on a list, as new: the latest sign-up is
    the evidence that counts. Returns its id."""
    now = func.now()
    values = {
        **origin.record(),
        "status": status,
        "consent_text": consent_text,
        "created_at": now,
        "confirmed_at": now if status == SubscriptionStatus.CONFIRMED.value else None,
        "unsubscribed_at": None,
    }
    statement = insert(Subscription).values(contact_id=contact_id, list_id=list_id, **values)
    statement = statement.on_conflict_do_update(index_elements=["contact_id", "list_id"], set_=values)
    subscription_id: int = (await session.execute(statement.returning(Subscription.id))).scalar_one()
    return subscription_id


async def record_leaving(session: AsyncSession, contact_id: int, list_id: int, origin: Origin) -> None:
    """The consent record says the contact left; one is created for members staff had added (with
    only this origin on it)."""
    values = {"status": SubscriptionStatus.UNSUBSCRIBED.value, "unsubscribed_at": func.now()}
    statement = insert(Subscription).values(contact_id=contact_id, list_id=list_id, **origin.record(), **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["contact_id", "list_id"], set_=values))


async def subscription_of_link(
    session: AsyncSession, subscription_id: int, list_id: int, *, lock: bool
) -> Subscription | None:
    query = select(Subscription).where(Subscription.id == subscription_id, Subscription.list_id == list_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def mark_confirmed(session: AsyncSession, subscription_id: int) -> None:
    # An ORM-enabled UPDATE: the Subscription this session holds is refreshed too.
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id)
        .values(status=SubscriptionStatus.CONFIRMED.value, confirmed_at=func.now())
    )


async def unsubscribe_records(session: AsyncSession, contact_id: int) -> None:
    """Every consent record of the contact that is not unsubscribed yet becomes so."""
    await session.execute(
        update(Subscription)
        .where(Subscription.contact_id == contact_id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED.value)
        .values(status=SubscriptionStatus.UNSUBSCRIBED.value, unsubscribed_at=func.now())
    )


async def unsubscribe_contact(session: AsyncSession, contact_id: int) -> bool:
    """Whether the contact was still mailed and is now unsubscribed."""
    result = await session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.status.in_(STILL_MAILED))
        .values(status=ContactStatus.UNSUBSCRIBED.value, last_updated=func.now())
    )
    return rows_changed(result) > 0


async def is_member(session: AsyncSession, contact_id: int, list_id: int) -> bool:
    found = await session.scalar(
        select(ListMember.list_id).where(ListMember.contact_id == contact_id, ListMember.list_id == list_id)
    )
    return found is not None


async def member_list_ids(session: AsyncSession, contact_id: int, *, besides: Collection[int] = ()) -> list[int]:
    """The lists the contact is a member of, but those in `besides`."""
    query = select(ListMember.list_id).where(ListMember.contact_id == contact_id)
    if besides:
        query = query.where(ListMember.list_id.not_in(besides))
    return list(await session.scalars(query))


async def add_member(session: AsyncSession, contact_id: int, list_id: int) -> None:
    await session.execute(insert(ListMember).values(list_id=list_id, contact_id=contact_id).on_conflict_do_nothing())


async def remove_member(session: AsyncSession, contact_id: int, list_id: int) -> None:
    await session.execute(delete(ListMember).where(ListMember.contact_id == contact_id, ListMember.list_id == list_id))
