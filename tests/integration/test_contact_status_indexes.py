"""The status and active indexes are partial (only contacts not active, or switched off): a page of
such contacts is still read through them, the status written into the SQL so that a plan the server
keeps for the statement can use the index too, and new active contacts enter neither."""

from __future__ import annotations

from sqlalchemy import select, text

from webapp.contacts.models import Contact
from webapp.contacts.queries.filters import apply_filter
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
