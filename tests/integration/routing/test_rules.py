"""Routing rules and domain throttles as admins keep them: checked against what exists (the
transports, the campaign), stored, listed by position, and compiled for the router."""

from __future__ import annotations

import pytest

from tests.support.campaigns import ready_campaign, smtp_server
from webapp.core.errors import NotFound, ValidationFailed
from webapp.providers.models import Provider
from webapp.routing.service import rules, throttles
from webapp.routing.service.choice import CompiledRule, Target
from webapp.routing.service.transports import transport_names


def rule_data(server_id: int, **changes) -> dict:
    return {
        "name": "Microsoft via the relay",
        "domains": "microsoft",
        "targets": [{"transport": f"smtp:{server_id}", "weight": 3}],
    } | changes


async def test_a_rule_is_stored_and_compiled_for_the_router(db):
    relay = await smtp_server(db, 2525, name="relay")
    rule = await rules.create_rule(db, rule_data(relay.id, kinds=["marketing"]))
    await db.commit()
    assert [r.name for r in await rules.list_rules(db)] == ["Microsoft via the relay"]
    assert await rules.active_rules(db) == [
        CompiledRule(
            id=rule.id,
            name="Microsoft via the relay",
            domains=frozenset({"microsoft"}),
            kinds=frozenset({"marketing"}),
            campaign_id=None,
            targets=(Target(f"smtp:{relay.id}", 3),),
        )
    ]


async def test_rules_are_listed_and_tried_by_position_and_inactive_ones_are_skipped(db):
    relay = await smtp_server(db, 2525)
    await rules.create_rule(db, rule_data(relay.id, name="second", position=20))
    await rules.create_rule(db, rule_data(relay.id, name="first", position=10))
    await rules.create_rule(db, rule_data(relay.id, name="off", position=5, is_active=False))
    assert [r.name for r in await rules.list_rules(db)] == ["off", "first", "second"]
    assert [r.name for r in await rules.active_rules(db)] == ["first", "second"]


async def test_a_transport_that_does_not_exist_is_refused(db):
    with pytest.raises(ValidationFailed) as failed:
        await rules.create_rule(db, rule_data(999))
    assert failed.value.errors == {"targets.0.transport": "That transport does not exist (it may have been deleted)."}


async def test_a_campaign_that_does_not_exist_is_refused(db):
    relay = await smtp_server(db, 2525)
    with pytest.raises(ValidationFailed) as failed:
        await rules.create_rule(db, rule_data(relay.id, campaign_id=424242))
    assert failed.value.errors == {"campaign_id": "That campaign does not exist."}


async def test_a_rule_for_one_campaign(db):
    relay = await smtp_server(db, 2525)
    campaign = await ready_campaign(db, [])
    rule = await rules.create_rule(db, rule_data(relay.id, campaign_id=campaign.id))
    assert (await rules.active_rules(db))[0].campaign_id == campaign.id == rule.campaign_id


async def test_a_rule_is_updated_and_deleted(db):
    relay = await smtp_server(db, 2525)
    rule = await rules.create_rule(db, rule_data(relay.id))
    await rules.update_rule(db, rule.id, rule_data(relay.id, name="Renamed", domains="gmail.com"))
    assert (await rules.get_rule(db, rule.id)).domains == ["gmail.com"]
    await rules.delete_rule(db, rule.id)
    with pytest.raises(NotFound):
        await rules.get_rule(db, rule.id)


async def test_throttles_are_kept_per_domain_or_group(db):
    await throttles.save_throttle(db, {"bucket": "Microsoft", "per_minute": "120"})
    await throttles.save_throttle(db, {"bucket": "example.org", "per_minute": 30})
    await throttles.save_throttle(db, {"bucket": "microsoft", "per_minute": 90})  # the same one again
    assert await throttles.limits(db) == {"example.org": 30, "microsoft": 90}
    (example,) = [t for t in await throttles.list_throttles(db) if t.bucket == "example.org"]
    await throttles.delete_throttle(db, example.id)
    assert await throttles.limits(db) == {"microsoft": 90}


async def test_a_throttle_needs_a_domain_or_group_and_a_positive_rate(db):
    with pytest.raises(ValidationFailed) as failed:
        await throttles.save_throttle(db, {"bucket": "not a domain", "per_minute": 0})
    assert set(failed.value.errors) == {"bucket", "per_minute"}


async def test_a_rule_may_name_an_api_provider(db):
    provider = Provider(name="Postmark transactional", kind="postmark")
    db.add(provider)
    await db.flush()
    rule = await rules.create_rule(
        db, rule_data(0) | {"targets": [{"transport": f"provider:{provider.id}", "weight": 1}]}
    )
    assert rule.targets == [{"transport": f"provider:{provider.id}", "weight": 1}]
    assert (await transport_names(db))[f"provider:{provider.id}"] == "Postmark transactional"
