"""Routing rules: checked against the transports and campaigns that exist, stored, and compiled
for the router (choice.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.service import campaigns
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.routing import queries
from webapp.routing.models import RoutingRule
from webapp.routing.schemas import RuleInput
from webapp.routing.service.choice import CompiledRule, Target
from webapp.routing.service.transports import transport_names

MISSING_TRANSPORT = "That transport does not exist (it may have been deleted)."


async def _columns(session: AsyncSession, data: Mapping[str, Any]) -> Values:
    values = load(RuleInput, data)
    known = await transport_names(session)
    errors = {
        f"targets.{i}.transport": MISSING_TRANSPORT
        for i, target in enumerate(values["targets"])
        if target["transport"] not in known
    }
    if values.get("campaign_id") is not None:
        try:
            await campaigns.get_campaign(session, values["campaign_id"])
        except NotFound:
            errors["campaign_id"] = "That campaign does not exist."
    if errors:
        raise ValidationFailed(errors)
    return values | {"domains": list(values.get("domains", ())), "kinds": list(values.get("kinds", ()))}


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    return await queries.rules(session)


async def rules_through(session: AsyncSession, transport: str) -> list[RoutingRule]:
    """The rules that send through this transport ("smtp:<id>" or "provider:<id>"), by position."""
    return await queries.rules_through(session, transport)


async def get_rule(session: AsyncSession, rule_id: int) -> RoutingRule:
    rule = await session.get(RoutingRule, rule_id) if is_valid_id(rule_id) else None
    if rule is None:
        raise NotFound("That routing rule does not exist (it may have been deleted).")
    return rule


async def create_rule(session: AsyncSession, data: Mapping[str, Any]) -> RoutingRule:
    rule = RoutingRule(**await _columns(session, data))
    session.add(rule)
    await session.flush()
    return rule


async def update_rule(session: AsyncSession, rule_id: int, data: Mapping[str, Any]) -> RoutingRule:
    rule = await get_rule(session, rule_id)
    for name, value in (await _columns(session, data)).items():
        setattr(rule, name, value)
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, rule_id: int) -> None:
    await session.delete(await get_rule(session, rule_id))
    await session.flush()


async def active_rules(session: AsyncSession) -> list[CompiledRule]:
    """The active rules in the order they are tried, as the router reads them."""
    return [
        CompiledRule(
            id=r.id,
            name=r.name,
            domains=frozenset(r.domains),
            kinds=frozenset(r.kinds),
            campaign_id=r.campaign_id,
            targets=tuple(Target(t["transport"], t["weight"]) for t in r.targets),
        )
        for r in await queries.rules(session, active_only=True)
    ]
