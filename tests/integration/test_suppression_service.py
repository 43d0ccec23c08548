"""services/suppression.py against PostgreSQL: idempotent adds keyed by the address hash, bulk adds
in one statement with line-numbered rejects, removal with a reason, search with keyset pages, stats."""

from __future__ import annotations

import hashlib
import logging

import pytest
from sqlalchemy import func, select, text

from webapp.core.errors import NotFound, ValidationFailed
from webapp.suppression.models import Suppression
from webapp.suppression.queries import suppression as queries
from webapp.suppression.service import suppression


async def rows(db) -> list[tuple[str | None, str]]:
    return list((await db.execute(select(Suppression.email, Suppression.reason).order_by(Suppression.id))).all())


async def test_add_stores_the_hash_of_the_lower_cased_address_and_is_idempotent(db):
    first = await suppression.add(
        db, "  Ada.Lovelace@Example.COM ", "bounce", note="550 no such user", source="campaign 1", created_by="Editor"
    )
    assert first.created
    assert first.suppression.email == "Ada.Lovelace@example.com"  # normalised as contacts are
    stored = await db.scalar(select(Suppression.email_hash))
    assert stored == hashlib.sha256(b"ada.lovelace@example.com").digest()

    again = await suppression.add(db, "ADA.LOVELACE@example.com", "manual", note="typed by hand")
    assert not again.created
    assert again.suppression.id == first.suppression.id
    assert (again.suppression.reason, again.suppression.note) == ("bounce", "550 no such user")  # first entry kept
    assert await db.scalar(select(func.count()).select_from(Suppression)) == 1


async def test_add_names_every_bad_field(db):
    with pytest.raises(ValidationFailed) as caught:
        await suppression.add(db, "not an address", "spam", note="x" * 2001)
    assert set(caught.value.errors) == {"email", "reason", "note"}
    assert "reason" in caught.value.errors["reason"].lower() and "bounce" in caught.value.errors["reason"]
    assert await rows(db) == []


async def test_an_entry_as_sent_defaults_the_reason_and_names_unknown_fields(db):
    entry = (await suppression.add_entry(db, {"email": "a@example.com"})).suppression
    assert (entry.email, entry.reason, entry.note) == ("a@example.com", "manual", "")
    with pytest.raises(ValidationFailed) as caught:
        await suppression.add_entry(db, {"email": "b@example.com", "colour": "red"})
    assert caught.value.errors == {"colour": "Unknown field."}


async def test_is_suppressed_in_any_case_and_false_for_non_addresses(db):
    await suppression.add(db, "grace@example.com", "complaint")
    assert await suppression.is_suppressed(db, "GRACE@EXAMPLE.COM")
    assert await suppression.is_suppressed(db, " grace@example.com ")
    assert not await suppression.is_suppressed(db, "grace@example.org")
    assert not await suppression.is_suppressed(db, "no address \\ at all")
    assert not await suppression.is_suppressed(db, "")
    assert await suppression.suppressed_among(db, ["Grace@example.com", "alan@example.com", "junk"]) == {
        "grace@example.com"
    }


async def test_add_many_is_one_statement_skipping_duplicates_and_existing(db):
    await suppression.add(db, "old@example.com", "bounce")
    added = await suppression.add_many(
        db,
        ["new1@example.com", "NEW1@example.com", "old@example.com", "new2@example.com", "broken@"],
        "unsubscribe",
        source="import",
        created_by="Importer",
    )
    assert added == 2
    assert await rows(db) == [
        ("old@example.com", "bounce"),
        ("new1@example.com", "unsubscribe"),
        ("new2@example.com", "unsubscribe"),
    ]
    assert await suppression.add_many(db, [], "manual") == 0


async def test_pasted_lines_report_bad_ones_by_line_and_add_the_good_ones(db):
    await suppression.add(db, "known@example.com", "manual")
    report = await suppression.add_pasted(
        db,
        "a@example.com\n\nnot-an-address\nknown@example.com\nb@example.com\nA@EXAMPLE.COM\nc@@example.com\n",
        "manual",
        note="from the help desk",
        created_by="Editor",
    )
    assert report.added == 2
    assert report.already == 2  # known@ was there; A@EXAMPLE.COM repeats line 1
    assert [(r.line, r.text) for r in report.rejected] == [(3, "not-an-address"), (7, "c@@example.com")]
    assert all(r.reason for r in report.rejected)
    assert {e for e, _ in await rows(db)} == {"known@example.com", "a@example.com", "b@example.com"}
    note = await db.scalar(select(Suppression.note).where(Suppression.email == "b@example.com"))
    assert note == "from the help desk"


async def test_a_paste_without_addresses_is_refused(db):
    for pasted in ("", "   \n  ", None):
        with pytest.raises(ValidationFailed) as caught:
            await suppression.add_pasted(db, pasted, "manual")
        assert "addresses" in caught.value.errors


async def test_remove_needs_a_reason_and_writes_it_to_the_audit_log(db, caplog):
    entry = (await suppression.add(db, "back@example.com", "manual")).suppression
    with pytest.raises(ValidationFailed) as caught:
        await suppression.remove(db, entry.id, "  ", actor="Editor")
    assert "reason" in caught.value.errors
    assert await suppression.is_suppressed(db, "back@example.com")

    with caplog.at_level(logging.INFO, logger="mailroom.audit"):
        removed = await suppression.remove(db, "BACK@example.com", "Asked to be re-added by phone", actor="Editor")
    assert (removed.email, removed.reason, removed.removal_reason) == (
        "back@example.com",
        "manual",
        "Asked to be re-added by phone",
    )
    assert not await suppression.is_suppressed(db, "back@example.com")
    record = next(r for r in caplog.records if r.name == "mailroom.audit")
    assert record.action == "suppression.remove" and record.actor == "Editor"
    assert "back@example.com" in record.getMessage() and "Asked to be re-added by phone" in record.getMessage()

    with pytest.raises(NotFound):
        await suppression.remove(db, entry.id, "again", actor="Editor")
    with pytest.raises(NotFound):
        await suppression.remove(db, "not an address", "why", actor="Editor")


async def test_search_pages_newest_first_with_prefix_and_reason(db):
    for i in range(7):
        await suppression.add(db, f"user{i}@example.com", "bounce" if i % 2 else "manual")
    await suppression.add(db, "user_x@example.com", "manual")  # "_" must not act as a LIKE wildcard
    await suppression.add(db, "other@example.com", "manual")

    first = await suppression.search(db, limit=4)
    assert [r.email for r in first.items] == [
        "other@example.com",
        "user_x@example.com",
        "user6@example.com",
        "user5@example.com",
    ]
    second = await suppression.search(db, cursor=first.next_cursor, limit=4)
    assert [r.email for r in second.items] == [f"user{i}@example.com" for i in (4, 3, 2, 1)]
    last = await suppression.search(db, cursor=second.next_cursor, limit=4)
    assert [r.email for r in last.items] == ["user0@example.com"] and last.next_cursor is None

    assert [r.email for r in (await suppression.search(db, "USER_")).items] == ["user_x@example.com"]
    assert len((await suppression.search(db, "user")).items) == 8
    bounces = await suppression.search(db, "user", "bounce")
    assert [r.email for r in bounces.items] == ["user5@example.com", "user3@example.com", "user1@example.com"]
    assert (await suppression.search(db, "%")).items == []
    assert len((await suppression.search(db, reason="nonsense")).items) == 9  # unknown reason: any
    assert len((await suppression.search(db, cursor="garbage!")).items) == 9  # a bad cursor: the first page


async def explain(db, query) -> str:
    """The plan of the query as the app sends it (parameters bound by the driver)."""
    connection = await db.connection()
    compiled = query.compile(dialect=connection.dialect)
    result = await connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(row[0] for row in result)


async def test_prefix_search_uses_the_lower_email_index_and_pages_use_the_created_at_index(db):
    await suppression.add_many(db, [f"bulk{i}@example.com" for i in range(5000)], "manual")
    await db.execute(text("ANALYZE suppressions"))
    assert "ix_suppressions_email_lower" in await explain(db, queries.search_query("bulk12", "", None, 51))
    page = await suppression.search(db, limit=50)
    after = queries.decode_cursor(page.next_cursor)
    assert "ix_suppressions_created_at_id" in await explain(db, queries.search_query("", "", after, 51))


async def test_stats_count_every_reason(db):
    assert await suppression.stats(db) == dict.fromkeys(suppression.REASONS, 0)
    await suppression.add_many(db, ["a@example.com", "b@example.com"], "bounce")
    await suppression.add(db, "c@example.com", "compliance")
    assert await suppression.stats(db) == {"bounce": 2, "complaint": 0, "unsubscribe": 0, "manual": 0, "compliance": 1}


async def test_addresses_on_one_line_may_be_separated_by_commas_or_semicolons(db):
    report = await suppression.add_pasted(
        db, "a@example.com; b@example.com,c@example.com\nd@example.com ;oops", "manual"
    )
    assert (report.added, [(r.line, r.text) for r in report.rejected]) == (4, [(2, "oops")])
    assert {e for e, _ in await rows(db)} == {"a@example.com", "b@example.com", "c@example.com", "d@example.com"}
