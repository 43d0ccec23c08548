"""The status and active indexes are partial (only contacts not active, or switched off): a page of
such contacts is still read through them, the status written into the SQL so that a plan the server
keeps for the statement can use the index too, and new active contacts enter neither. The A-Z
sorts read indexes of their own shape."""

from __future__ import annotations

from sqlalchemy import select, text

from webapp.contacts.models import Contact
from webapp.contacts.queries.filters import apply_filter, sort_columns
from webapp.contacts.queries.table import page
from webapp.contacts.schemas import ContactFilter


async def plan_of(db, filters: ContactFilter) -> str:
    """EXPLAIN of a newest-first page of these filters, as the contacts page asks it."""
    connection = await db.connection()
    query = apply_filter(filters, select(Contact.id)).order_by(Contact.date_added.desc(), Contact.id.desc()).limit(50)
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    rows = await connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(row[0] for row in rows)


async def test_pages_of_contacts_not_active_or_switched_off_use_the_partial_indexes(db):
    await db.execute(
        text(
            "INSERT INTO contacts (email, status, is_active, date_added) "
            "SELECT 'c' || g || '@example.com', CASE WHEN g % 100 = 0 THEN 'bounced' ELSE 'active' END, g % 20 <> 0, "
            "now() - g * interval '1 minute' FROM generate_series(1, 20000) g"
        )
    )
    await db.commit()
    await db.execute(text("ANALYZE contacts"))

    assert "ix_contacts_status_date_added_id" in await plan_of(db, ContactFilter(status="bounced"))
    assert "ix_contacts_active_date_added_id" in await plan_of(db, ContactFilter(is_active=False))
    # the common values walk the date index, where nearly every row matches
    assert "ix_contacts_date_added_id" in await plan_of(db, ContactFilter(status="active"))
    assert "ix_contacts_date_added_id" in await plan_of(db, ContactFilter(is_active=True))
    definitions = dict(
        (
            await db.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                    "('ix_contacts_status_date_added_id', 'ix_contacts_active_date_added_id')"
                )
            )
        ).all()
    )
    assert definitions["ix_contacts_status_date_added_id"].endswith("WHERE ((status)::text <> 'active'::text)")
    assert definitions["ix_contacts_active_date_added_id"].endswith("WHERE (is_active IS FALSE)")


def test_the_status_is_written_into_the_sql_not_bound():
    sql = str(
        apply_filter(ContactFilter(status="bounced"), select(Contact.id)).compile(
            compile_kwargs={"render_postcompile": True}
        )
    )
    assert "contacts.status = 'bounced'" in sql


async def test_the_a_to_z_sorts_read_their_indexes_and_put_the_nameless_last(db):
    await db.execute(
        text(
            "INSERT INTO contacts (email, first_name, last_name, company) "
            "SELECT 'c' || g || '@example.com', CASE WHEN g % 10 = 0 THEN '' ELSE 'F' || g END, "
            "CASE WHEN g % 5 = 0 THEN '' ELSE 'L' || g END, CASE WHEN g % 4 = 0 THEN '' ELSE 'Co' || g END "
            "FROM generate_series(1, 20000) g"
        )
    )
    await db.commit()
    await db.execute(text("ANALYZE contacts"))
    connection = await db.connection()
    for sort, index in (("name", "ix_contacts_name_id"), ("company", "ix_contacts_company_id")):
        query = select(Contact.id).order_by(*sort_columns(sort)).limit(50)
        compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        plan = "\n".join(row[0] for row in await connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
        assert index in plan and "Sort" not in plan.split(index)[0], plan

    last = (await page(db, ContactFilter(), sort="name", limit=20_000)).contacts
    assert [c.first_name + c.last_name for c in last[-2000:]] == [""] * 2000  # g % 10 = 0: neither name
    assert not any(c.first_name + c.last_name == "" for c in last[:-2000])
    by_company = (await page(db, ContactFilter(), sort="company", limit=20_000)).contacts
    assert {c.company for c in by_company[-5000:]} == {""} and "" not in {c.company for c in by_company[:-5000]}
