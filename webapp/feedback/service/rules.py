"""The soft-bounce rule (listmonk-style): a contact whose messages soft-bounce `soft_bounce_limit`
times within `soft_bounce_days` days is treated as the admin chose: nothing, unsubscribed,
suppressed like a hard bounce, or deleted (its address stays on the suppression list, so the
opt-out survives the contact). Kept in app_settings under KEY; defaults until an admin saves it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.core.schemas import load as load_input
from webapp.feedback import queries
from webapp.feedback.schemas import BounceRulesInput
from webapp.settings.service import stored
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression

KEY = "bounce_rules"
SOURCE = "soft bounces"  # names the rule in suppression entries and opt-out records


@dataclass(frozen=True)
class BounceRules:
    soft_bounce_limit: int = 3
    soft_bounce_days: int = 7
    soft_bounce_action: str = "suppress"  # the "soft bounces become hard after N in a window"


async def load(session: AsyncSession) -> BounceRules:
    saved = await stored.load(session, KEY)
    known = {f.name for f in fields(BounceRules)}
    return BounceRules(**{name: value for name, value in saved.items() if name in known})


async def update(session: AsyncSession, data: Mapping[str, Any]) -> BounceRules:
    """Save the rule as sent (BounceRulesInput); ValidationFailed names every problem."""
    rules = BounceRules(**load_input(BounceRulesInput, data))
    await stored.save(session, KEY, asdict(rules))
    return rules


async def apply_soft_bounces(session: AsyncSession, contact_ids: Sequence[int]) -> list[int]:
    """These contacts just soft-bounced: act on those now at the limit; their ids."""
    rules = await load(session)
    if rules.soft_bounce_action == "none" or not contact_ids:
        return []
    over = await queries.over_soft_bounce_limit(session, contact_ids, rules.soft_bounce_limit, rules.soft_bounce_days)
    if not over:
        return over
    if rules.soft_bounce_action == "unsubscribe":
        for contact_id in over:  # the preference centre's opt-out: lists, consent records, suppression, webhook
            await subscriptions.unsubscribe_all(session, contact_id, Origin(source=SOURCE))
        return over
    emails = await queries.emails_of(session, over)
    await suppression.add_many(session, emails, SuppressionReason.BOUNCE.value, source=SOURCE, created_by=SOURCE)
    if rules.soft_bounce_action == "delete":
        await contacts.delete_contacts(session, over)
    else:
        await queries.contacts_bounced(session, over)
    return over
