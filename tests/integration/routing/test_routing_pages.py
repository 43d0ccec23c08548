"""The routing rules and domain throttles pages against the real web server: admins only, rules
added with weighted transport rows (empty rows are no transport), mistakes shown next to the row
that has them, throttles set, changed and removed, and the rate a deferral lowered shown."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.campaigns import smtp_server
from webapp.core.redis import get_redis
from webapp.routing.models import RoutingRule
from webapp.routing.service.domain_rates import DomainRates


async def relays(db) -> tuple[int, int]:
    a, b = await smtp_server(db, 2525, name="Relay A"), await smtp_server(db, 2526, name="Relay B")
    await db.commit()
    return a.id, b.id


def rule_form(a: int, b: int, **changes) -> dict[str, str | list[str]]:
    """A rule's form with three transport rows, the middle one left empty."""
    fields = {
        "name": "Microsoft split",
        "domains": "microsoft, example.org",
        "position": "10",
        "is_active": "yes",
        "kinds": ["marketing", "automation"],
        "transport": [f"smtp:{a}", "", f"smtp:{b}"],
        "weight": ["70", "", "30"],
    }
    return {k: v for k, v in (fields | changes).items() if v is not None}


async def test_routing_pages_are_for_admins_only(staff):
    editor = await staff("editor")
    for path in ("/settings/routing", "/settings/routing/new", "/settings/throttles"):
        assert editor.get(path).status_code == 403
    assert editor.post("/settings/throttles", data={"bucket": "gmail.com", "per_minute": "5"}).status_code == 403


async def test_an_admin_adds_a_rule_with_weighted_transports(staff, db):
    a, b = await relays(db)
    client = await staff("admin")
    assert "Transport 1" in client.get("/settings/routing/new").text
    response = client.post("/settings/routing", data=rule_form(a, b))
    assert response.status_code == 303 and response.headers["location"] == "/settings/routing"
    rule = (await db.scalars(select(RoutingRule))).one()
    assert rule.domains == ["microsoft", "example.org"] and rule.kinds == ["marketing", "automation"]
    assert rule.targets == [{"transport": f"smtp:{a}", "weight": 70}, {"transport": f"smtp:{b}", "weight": 30}]
    page = client.get("/settings/routing").text
    assert "Routing rule &#39;Microsoft split&#39; added." in page
    assert 'Relay A <span class="muted">(70)</span>' in page and 'title="hotmail.co.uk, hotmail.com' in page
    form = client.get(f"/settings/routing/{rule.id}/edit").text
    assert 'value="Microsoft split"' in form and 'id="kind-automation" name="kinds" value="automation" checked' in form


async def test_rules_after_one_that_takes_every_message_are_marked_as_never_used(staff, db):
    a, b = await relays(db)
    client = await staff("admin")
    for name, position, domains in (
        ("Gmail", "5", "gmail.com"),
        ("Catch-all", "10", ""),
        ("Outlook", "20", "outlook.com"),
    ):
        client.post("/settings/routing", data=rule_form(a, b, name=name, position=position, domains=domains, kinds=[]))
    client.post("/settings/routing", data=rule_form(a, b, name="Off", position="30", domains="", is_active=None))
    page = client.get("/settings/routing").text
    rows = {
        rule.name: page.split(f'id="rule-{rule.id}"')[1].split("</tr>")[0]
        for rule in await db.scalars(select(RoutingRule))
    }
    assert "never used" not in rows["Gmail"] + rows["Catch-all"] + rows["Off"]  # an inactive rule is not used anyway
    assert "never used: “Catch-all” before it takes every message" in rows["Outlook"]


async def test_a_mistake_is_shown_next_to_its_transport_row(staff, db):
    a, b = await relays(db)
    client = await staff("admin")
    response = client.post("/settings/routing", data=rule_form(a, b, transport=["", f"smtp:{a}"], weight=["", "0"]))
    assert response.status_code == 422
    assert 'id="weight-1" name="weight" type="number" value="0"' in response.text
    assert '<p class="field-error" id="weight-1-error">Weight must be between 1 and 1,000.</p>' in response.text
    assert (await db.scalars(select(RoutingRule))).first() is None


async def test_an_admin_edits_and_deletes_a_rule(staff, db):
    a, b = await relays(db)
    client = await staff("admin")
    client.post("/settings/routing", data=rule_form(a, b))
    rule = (await db.scalars(select(RoutingRule))).one()
    client.post(f"/settings/routing/{rule.id}/edit", data=rule_form(a, b, name="Renamed", is_active=None))
    db.expire_all()
    rule = (await db.scalars(select(RoutingRule))).one()
    assert (rule.name, rule.is_active) == ("Renamed", False)
    assert "Delete the rule <strong>Renamed</strong>?" in client.get(f"/settings/routing/{rule.id}/delete").text
    assert client.post(f"/settings/routing/{rule.id}/delete").status_code == 303
    db.expire_all()
    assert (await db.scalars(select(RoutingRule))).first() is None


async def test_an_admin_sets_changes_and_removes_a_throttle_and_sees_a_slowed_domain(staff, db):
    client = await staff("admin")
    assert client.post("/settings/throttles", data={"bucket": "Microsoft", "per_minute": "600"}).status_code == 303
    await DomainRates(get_redis(), {"microsoft": 600}).deferred("hotmail.com")
    page = client.get("/settings/throttles").text
    assert "hotmail.com" in page and "<strong>300</strong>" in page and "slowed by deferrals" in page
    response = client.post("/settings/throttles", data={"bucket": "not a domain!", "per_minute": "0"})
    assert response.status_code == 422 and 'id="per_minute-error"' in response.text
    client.post("/settings/throttles", data={"bucket": "microsoft", "per_minute": "1500"})
    assert "microsoft: at most 1,500 messages a minute." in client.get("/settings/throttles").text  # as the table
    throttle_id = page.split('id="throttle-')[1].split('"')[0]
    assert client.post(f"/settings/throttles/{throttle_id}/delete").status_code == 303
    assert "No throttles" in client.get("/settings/throttles").text


async def test_deleting_a_transport_names_the_rules_that_send_through_it(staff, db):
    a, b = await relays(db)
    client = await staff("admin")
    client.post("/settings/routing", data=rule_form(a, b))
    client.post("/settings/routing", data=rule_form(a, b, name="Only B", transport=[f"smtp:{b}"], weight=["1"]))
    rules = {r.name: r.id for r in await db.scalars(select(RoutingRule))}

    confirm = client.get(f"/settings/smtp/{a}/delete").text
    assert "This routing rule sends through it:" in confirm
    assert f'<a href="/settings/routing/{rules["Microsoft split"]}/edit">Microsoft split</a>' in confirm
    assert ">Only B</a>" not in confirm
    assert "These routing rules send through it:" in client.get(f"/settings/smtp/{b}/delete").text


async def test_a_domain_throttled_on_its_own_says_it_is_not_counted_in_its_groups(staff, db):
    client = await staff("admin")
    client.post("/settings/throttles", data={"bucket": "google", "per_minute": "3000"})
    assert "counted on its own" not in client.get("/settings/throttles").text

    client.post("/settings/throttles", data={"bucket": "gmail.com", "per_minute": "100"})
    page = client.get("/settings/throttles").text
    assert (
        "gmail.com: at most 100 messages a minute, counted on its own: its messages no longer count in the "
        "google group&#39;s throttle." in page
    )
    assert "gmail.com (throttled on its own)" in page
    assert "On its own: not counted in the google group's throttle." in page
    assert "googlemail.com (throttled on its own)" not in page
