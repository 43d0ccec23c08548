"""Each contact's count of messages sent lives in contact_sends, not on the contact's row: a send
adds to it without writing a new version of the contacts it reaches, and the contact page, the
API, segment rules and the GDPR export read it as before."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.smtp import SmtpSink
from webapp.contacts import service as contacts
from webapp.lists.models import EmailList
from webapp.lists.service import segments
from webapp.suppression.service import gdpr


async def versions(db) -> dict[str, str]:
    """Each contact's row version (xmin changes whenever the row is written again)."""
    rows = await db.execute(text("SELECT email, xmin::text FROM contacts"))
    return dict(rows.all())


async def sent_counts(db) -> dict[str, int]:
    rows = await db.execute(
        text("SELECT c.email, s.emails_sent FROM contact_sends s JOIN contacts c ON c.id = s.contact_id")
    )
    return dict(rows.all())


async def a_list_of(db, emails: list[str]) -> int:
    email_list = EmailList(name="Some of them")
    db.add(email_list)
    await db.flush()
    await db.execute(
        text("INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts WHERE email = ANY(:e)"),
        {"l": email_list.id, "e": emails},
    )
    return email_list.id


async def test_sends_are_counted_without_rewriting_the_contacts_they_reach(db, worker, api):
    with SmtpSink() as sink:
        everyone = await audience(db, 5)
        await smtp_server(db, sink.port)
        first = await ready_campaign(db, [everyone.id])
        await db.commit()
        before = await versions(db)
        await sent_by_a_worker(db, worker, first.id)
        assert await versions(db) == before, "a send wrote new versions of its recipients' rows"

        some = await a_list_of(db, ["person0@example.com", "person1@example.com"])
        second = await ready_campaign(db, [some], name="Second")
        await db.commit()
        await sent_by_a_worker(db, worker, second.id)
    assert len(sink.messages) == 7

    assert await sent_counts(db) == {f"person{i}@example.com": 2 if i < 2 else 1 for i in range(5)}
    person0 = await db.scalar(text("SELECT id FROM contacts WHERE email = 'person0@example.com'"))
    client = await api("viewer")
    assert client.get(f"/api/contacts/{person0}").json()["email_stats"]["emails_sent"] == 2
    assert (await contacts.get_contact(db, person0)).emails_sent == 2  # as the contact's page shows it
    assert (await gdpr.export_contact(db, person0))["contact"]["emails_sent"] == 2


async def test_segment_rules_on_emails_sent_count_contacts_never_sent_anything_as_zero(db):
    await audience(db, 4)
    await db.execute(
        text("""INSERT INTO contact_sends (contact_id, emails_sent)
                SELECT id, CASE email WHEN 'person1@example.com' THEN 1 ELSE 3 END FROM contacts
                WHERE email IN ('person1@example.com', 'person2@example.com')""")
    )
    await db.commit()  # person0 and person3: never sent anything, no row

    async def matching(op: str, value: int) -> int | None:
        rules = {"operator": "AND", "conditions": [{"field": "emails_sent", "op": op, "value": value}]}
        return await segments.count_rules(db, rules, None)

    assert await matching("eq", 0) == 2
    assert await matching("lt", 1) == 2
    assert await matching("gte", 1) == 2
    assert await matching("gt", 1) == 1
    assert await matching("neq", 3) == 3
    assert await matching("lte", 3) == 4


async def test_a_deleted_contact_takes_its_count_with_it(db):
    await audience(db, 2)
    await db.execute(text("INSERT INTO contact_sends (contact_id, emails_sent) SELECT id, 4 FROM contacts"))
    await db.execute(text("DELETE FROM contacts WHERE email = 'person0@example.com'"))
    await db.commit()
    assert await sent_counts(db) == {"person1@example.com": 4}
