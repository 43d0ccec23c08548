"""Segments as lists: dynamic and segmented lists as campaign audiences, list-membership and
engagement conditions, and the rules that tie a segment's fields together."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.smtp import SmtpSink
from webapp.campaigns.service.audience import count_for_lists
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList
from webapp.lists.queries.conditions import compile_rules
from webapp.lists.schemas.rules import parse_rules
from webapp.lists.service import lists
from webapp.suppression.models import EMAIL_HASH_SQL


def person(*numbers: int) -> list[str]:
    return sorted(f"person{i}@example.com" for i in numbers)


async def suppress(db, email: str) -> None:
    await db.execute(
        text(
            f"INSERT INTO suppressions (email_hash, email, reason) VALUES ({EMAIL_HASH_SQL.format(':e')}, :e, 'manual')"
        ),
        {"e": email},
    )


async def test_campaign_to_a_dynamic_and_a_segmented_list_reaches_the_matches_once(db, worker):
    base = await audience(db, 12)
    await db.execute(
        text(
            "UPDATE contacts SET tags = '{vip}' WHERE email IN "
            "('person0@example.com', 'person1@example.com', 'person2@example.com')"
        )
    )
    await db.execute(
        text("""UPDATE contacts SET custom_fields = '{"plan": "Pro"}' WHERE email IN
                          ('person2@example.com', 'person8@example.com', 'person9@example.com')""")
    )
    outsider = Contact(email="outsider@example.com", tags=["vip"], custom_fields={"plan": "pro"})
    waiting = Contact(email="waiting@example.com", tags=["vip"], status="pending")
    db.add_all([outsider, waiting])
    await suppress(db, "PERSON9@example.com")
    vip = await lists.create_list(
        db,
        {
            "name": "VIPs",
            "list_type": "dynamic",
            "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["VIP"]}]},
        },
        "tests",
    )
    pro = await lists.create_list(
        db,
        {
            "name": "Pro customers",
            "list_type": "segmented",
            "parent_list_id": base.id,
            "rules": {"operator": "AND", "conditions": [{"field": "custom.plan", "op": "eq", "value": "pro"}]},
        },
        "tests",
    )
    assert (vip.contact_count, pro.contact_count) == (5, 3)  # counts include pending and suppressed contacts
    assert await count_for_lists(db, [vip.id, pro.id]) == 5  # 0, 1, 2 (once), 8, outsider

    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [vip.id, pro.id])
        done = await sent_by_a_worker(db, worker, campaign.id)
    assert done.total_recipients == 5
    assert sorted(sink.handler.recipients()) == sorted([*person(0, 1, 2, 8), "outsider@example.com"])


async def test_dynamic_lists_are_evaluated_when_the_campaign_is_sent(db):
    segment = await lists.create_list(
        db,
        {
            "name": "Acme",
            "list_type": "dynamic",
            "rules": {"operator": "AND", "conditions": [{"field": "company", "op": "eq", "value": "acme"}]},
        },
        "tests",
    )
    assert segment.contact_count == 0 and await count_for_lists(db, [segment.id]) == 0
    db.add(Contact(email="late@example.com", company="ACME"))
    await db.flush()
    assert await count_for_lists(db, [segment.id]) == 1


async def matching(db, raw_rules: dict) -> list[str]:
    condition = compile_rules(parse_rules(raw_rules), datetime.now(UTC))
    return sorted(await db.scalars(select(Contact.email).where(condition)))


def rule(field: str, op: str, value) -> dict:
    return {"operator": "AND", "conditions": [{"field": field, "op": op, "value": value}]}


async def test_list_membership_and_engagement_conditions(db):
    first = await audience(db, 6, name="First")
    other = EmailList(name="Other")
    db.add(other)
    await db.flush()
    await db.execute(
        text(
            "INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts "
            "WHERE email IN ('person4@example.com', 'person5@example.com')"
        ),
        {"l": other.id},
    )
    campaign = await ready_campaign(db, [first.id])
    # person0-3 received the campaign; 0 and 1 opened it, 0 clicked; person4's delivery failed
    await db.execute(
        text("""
        INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at, opened_at, clicked_at)
        SELECT :c, id, email, CASE WHEN email = 'person4@example.com' THEN 'failed' ELSE 'sent' END, now(),
               CASE WHEN email IN ('person0@example.com', 'person1@example.com') THEN now() END,
               CASE WHEN email = 'person0@example.com' THEN now() END
        FROM contacts WHERE email ~ '^person[0-4]@'"""),
        {"c": campaign.id},
    )
    await db.execute(
        text("UPDATE contacts SET last_opened = now() - interval '40 days' WHERE email = 'person2@example.com'")
    )
    await db.execute(
        text("UPDATE contacts SET last_opened = now() WHERE email IN ('person0@example.com', 'person1@example.com')")
    )

    assert await matching(db, rule("list", "in", [other.id])) == person(4, 5)
    assert await matching(db, rule("list", "not_in", [other.id])) == person(0, 1, 2, 3)
    assert await matching(db, rule("engagement", "opened", campaign.id)) == person(0, 1)
    assert await matching(db, rule("engagement", "not_opened", campaign.id)) == person(2, 3)
    assert await matching(db, rule("engagement", "clicked", campaign.id)) == person(0)
    assert await matching(db, rule("engagement", "not_clicked", campaign.id)) == person(1, 2, 3)
    assert await matching(db, rule("engagement", "opened_within", 30)) == person(0, 1)
    assert await matching(db, rule("engagement", "not_opened_within", "30d")) == person(2, 3, 4, 5)
    assert await matching(db, rule("last_opened", "gte", "-60d")) == person(0, 1, 2)
    assert await matching(
        db,
        {"operator": "OR", "conditions": [rule("engagement", "clicked", campaign.id), rule("list", "in", [other.id])]},
    ) == person(0, 4, 5)


async def test_segment_rules_are_checked_against_the_lists_they_name(api):
    client = await api("editor")
    parent = client.post("/api/lists", json={"name": "Newsletter"}).json()
    everyone = {"operator": "AND", "conditions": []}
    smart = client.post("/api/lists", json={"name": "Smart", "list_type": "dynamic", "rules": everyone}).json()
    assert smart["rules"] == {"operator": "AND", "conditions": []}

    def errors(response) -> dict[str, str]:
        assert response.status_code == 422, response.text
        return {e["field"]: e["message"] for e in response.json()["errors"]}

    no_parent = client.post("/api/lists", json={"name": "Subset", "list_type": "segmented"})
    assert "parent_list_id" in errors(no_parent)
    dynamic_parent = client.post(
        "/api/lists", json={"name": "Subset", "list_type": "segmented", "parent_list_id": smart["id"]}
    )
    assert errors(dynamic_parent) == {"parent_list_id": f"List {smart['id']} is not a static list."}
    bad_reference = client.post(
        "/api/lists",
        json={
            "name": "Subset",
            "list_type": "dynamic",
            "rules": {
                "operator": "AND",
                "conditions": [{"field": "list", "op": "in", "value": [parent["id"], smart["id"], 999999]}],
            },
        },
    )
    assert errors(bad_reference) == {"rules.conditions[0].value": f"Not a static list: {smart['id']}, 999999."}
    static_with_rules = client.post(
        "/api/lists", json={"name": "Plain", "rules": {"operator": "AND", "conditions": []}}
    )
    assert "rules" in errors(static_with_rules)

    retyped = client.patch(f"/api/lists/{smart['id']}", json={"list_type": "static"})
    assert "list_type" in errors(retyped)
    bad_value = client.patch(
        f"/api/lists/{smart['id']}",
        json={"rules": {"operator": "AND", "conditions": [{"field": "emails_opened", "op": "gt", "value": "lots"}]}},
    )
    assert errors(bad_value) == {"rules.conditions[0].value": "Enter a number."}

    client.post("/api/contacts", json={"email": "a@example.com", "company": "Initech"})
    changed = client.patch(
        f"/api/lists/{smart['id']}",
        json={"rules": {"operator": "AND", "conditions": [{"field": "company", "op": "starts_with", "value": "ini"}]}},
    )
    assert changed.status_code == 200 and changed.json()["contact_count"] == 1
    client.post("/api/contacts", json={"email": "b@example.com", "company": "Initrode"})
    recount = client.post(f"/api/lists/{smart['id']}/count")
    assert recount.status_code == 200 and recount.json()["contact_count"] == 2

    viewer = await api("viewer")
    assert viewer.post(f"/api/lists/{smart['id']}/count").status_code == 403


async def test_a_segments_page_lists_its_current_matches_without_member_controls(staff, db):
    db.add_all([Contact(email="ann@acme.example", company="Acme"), Contact(email="bob@other.example", company="Other")])
    segment = await lists.create_list(
        db, {"name": "Acme people", "list_type": "dynamic", "rules": rule("company", "eq", "acme")}, "tests"
    )
    await db.commit()
    client = await staff("editor")
    page = client.get(f"/lists/{segment.id}")
    assert page.status_code == 200
    assert "ann@acme.example" in page.text and "bob@other.example" not in page.text
    assert "Remove from list" not in page.text and "1 matching" in page.text
