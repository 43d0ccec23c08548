"""The preference centre: what a subscriber sees about themselves and may change (topics, frequency,
language, lists), reached with a signed link from any email.

An active contact unticks lists to leave them and ticks public lists to join them. A contact that
receives nothing (unsubscribed, bounced, complained, pending and never confirmed, or its address
suppressed) sees its lists unticked: ticking any of them, or a public list, is an opt-in that makes
it active again on exactly those lists (see subscriptions.reactivate). Unless staff suppressed the
address (a complaint, by hand, for compliance): then no list is offered, and the page says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact, ContactStatus
from webapp.core.errors import NotFound
from webapp.core.i18n import LANGUAGES, N_
from webapp.core.schemas import load as load_schema
from webapp.core.tokens import LINK_GONE
from webapp.lists.models import EmailList
from webapp.subscriptions import queries
from webapp.subscriptions.schemas import Origin, PreferenceChanges
from webapp.subscriptions.service import subscriptions
from webapp.suppression.service import suppression

# The default topics (org_settings.DEFAULT_TOPICS), marked here so their translations are extracted.
TOPIC_NAMES = (N_("News"), N_("Promotions"), N_("Tips"), N_("Events"))
FREQUENCIES = {"weekly": N_("Weekly"), "monthly": N_("Monthly"), "important": N_("Only important news")}


@dataclass
class Preferences:
    contact: Contact
    receiving: bool  # active: gets mail from the lists it is on
    pending: bool  # signed up, not confirmed yet
    may_return: bool  # not receiving, may opt in again here: no complaint, manual or compliance suppression
    on_lists: list[EmailList]  # active lists the contact is a member of
    joinable: list[EmailList]  # public lists it is not on
    topics: list[str]  # the organisation's topics, in its order


async def contact(session: AsyncSession, contact_id: int | None) -> Contact:
    found = await session.get(Contact, contact_id) if contact_id else None
    if found is None:
        raise NotFound(LINK_GONE)
    return found


async def load(session: AsyncSession, contact_id: int | None, topics: Sequence[str]) -> Preferences:
    person = await contact(session, contact_id)
    on_lists = await queries.active_lists_of(session, person.id)
    member_ids = {email_list.id for email_list in on_lists}
    joinable = [
        email_list for email_list in await subscriptions.public_lists(session) if email_list.id not in member_ids
    ]
    # An address added again after an opt-out stays suppressed, whatever its contact's status says.
    suppressed = await suppression.is_suppressed(session, person.email)
    receiving = person.status == ContactStatus.ACTIVE.value and not suppressed
    may_return = not receiving and await subscriptions.may_receive_confirmation(session, person.email)
    if not receiving and not may_return:
        on_lists, joinable = [], []
    pending = person.status == ContactStatus.PENDING.value
    return Preferences(person, receiving, pending, may_return, on_lists, joinable, list(topics))


async def sample(session: AsyncSession, topics: Sequence[str]) -> Preferences:
    """What a test send's link shows: a subscriber on no list yet, with the public lists to join."""
    public = list(await subscriptions.public_lists(session))
    return Preferences(Contact(email="", topics=[]), True, False, False, [], public, list(topics))


async def save(
    session: AsyncSession,
    contact_id: int | None,
    data: Mapping[str, Any],
    allowed_topics: Sequence[str],
    origin: Origin,
) -> None:
    """Apply the form (PreferenceChanges' fields); what no control offers is ignored."""
    changes = load_schema(PreferenceChanges, data)
    view = await load(session, contact_id, allowed_topics)
    person = view.contact
    if "topics" in changes:
        wanted = set(changes["topics"])
        person.topics = [t for t in allowed_topics if t in wanted]
    if changes.get("frequency") in FREQUENCIES or changes.get("frequency") == "":
        person.frequency = changes["frequency"]
    if changes.get("language") in LANGUAGES:
        person.language = changes["language"]
    keep: set[int] = changes.get("keep", set())
    join: set[int] = changes.get("join", set())
    public_ids = {email_list.id: email_list for email_list in view.joinable}
    if view.receiving:
        for email_list in view.on_lists:
            if email_list.id not in keep:
                await subscriptions.leave(session, person.id, email_list.id, origin)
        for list_id in join & public_ids.keys():
            await subscriptions.join(session, person.id, public_ids[list_id], origin)
        return
    # Not receiving: its own lists and public lists are offered to join; ticking any opts in again.
    offered = {**public_ids, **{email_list.id: email_list for email_list in view.on_lists}}
    chosen = join & offered.keys()
    if not chosen:
        return
    for list_id in chosen:
        await subscriptions.join(session, person.id, offered[list_id], origin)
    await subscriptions.reactivate(session, person.id, keep_list_ids=chosen)
    await session.flush()
