"""queries.contacts (keyset pages, cursors, counts) and services.contacts against real PostgreSQL."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, func, select, text

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.contacts.queries.filters import apply_filter, decode_cursor, encode_cursor, search_query
from webapp.contacts.queries.table import estimate_count, page
from webapp.contacts.schemas import SORTS, ContactCreate, ContactFilter
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.lists.service import lists

NASTY = [
    "",
    " ",
    "\x00",
    "a:*",
    "!(a | b) & c",
    "'; DROP TABLE contacts; --",
    "%_\\",
    "ß½²",
    "日本語 テスト",
    "x" * 5000,
    "a " * 500,
    "@@..",
    "a\u0301",
    "\u202e",
    "o'brien",
    "😀 smile",
]


async def seed(db, n: int) -> None:
    """n contacts, set-based; names, companies and dates repeat so every sort has ties to break by id,
    and some have no first name, last name, both, or company."""
    await db.execute(
        text(
            "INSERT INTO contacts (email, first_name, last_name, company, status, is_active, tags, date_added, "
            "last_updated) "
            "SELECT 'c' || g || '@example.com', CASE WHEN g % 7 = 0 THEN '' ELSE 'F' || (g % 7) END, "
            "CASE WHEN g % 5 = 0 THEN '' ELSE 'L' || (g % 5) END, "
            "CASE WHEN g % 3 = 0 THEN '' ELSE 'Co' || (g % 3) END, "
            "CASE WHEN g % 4 = 0 THEN 'bounced' ELSE 'active' END, g % 2 = 0, "
            "CASE WHEN g % 3 = 0 THEN ARRAY['vip'] ELSE ARRAY[]::text[] END, "
            "timestamp '2024-01-01' + (g % 10) * interval '1 day', "
            "timestamp '2024-02-01' + (g % 6) * interval '1 hour' "
            "FROM generate_series(1, :n) g"
        ),
        {"n": n},
    )
    await db.commit()


def expected_order(sort: str):
    columns = {
        "newest": [Contact.date_added.desc(), Contact.id.desc()],
        "oldest": [Contact.date_added, Contact.id],
        "email": [func.lower(Contact.email), Contact.id],
        # A-Z with the nameless last; a first name alone sorts among the last names.
        "name": [
            text("first_name || last_name = ''"),
            text("lower(CASE WHEN last_name <> '' THEN last_name ELSE first_name END)"),
            func.lower(Contact.first_name),
            Contact.id,
        ],
        "company": [text("company = ''"), func.lower(Contact.company), Contact.id],
        "updated": [Contact.last_updated.desc(), Contact.id.desc()],
    }[sort]
    return select(Contact.id).order_by(*columns)


async def walk_both_ways(db, filters: ContactFilter, sort: str, limit: int, **options) -> list[int]:
    """Follow Next to the end, then Previous back to the start: the ids in order, each page checked."""
    most = await db.scalar(select(func.count()).select_from(Contact)) // limit + 2  # a loop is a failure
    pages, cursor = [], None
    while True:
        result = await page(db, filters, sort=sort, cursor=cursor, limit=limit, **options)
        pages.append([c.id for c in result.contacts])
        assert (result.prev_cursor is None) == (cursor is None)
        if not result.next_cursor:
            break
        assert len(pages[-1]) == limit and len(pages) < most
        cursor = result.next_cursor
    back, cursor = [], result.prev_cursor
    while cursor:
        assert len(back) < most
        result = await page(db, filters, sort=sort, cursor=cursor, limit=limit, **options)
        back.append([c.id for c in result.contacts])
        assert result.next_cursor
        cursor = result.prev_cursor
    assert back == pages[-2::-1]
    return [i for p in pages for i in p]


@pytest.mark.parametrize("sort", list(SORTS))
async def test_keyset_pages_walk_every_row_once_both_ways(db, sort):
    await seed(db, 57)
    assert await walk_both_ways(db, ContactFilter(), sort, 10) == list(await db.scalars(expected_order(sort)))


async def test_filtered_pages_and_filters(db):
    await seed(db, 60)
    filters = ContactFilter(tag="VIP", status="active", is_active=False)
    rows = (await page(db, filters, sort="email", limit=100)).contacts
    assert rows and all("vip" in c.tags and c.status == "active" and not c.is_active for c in rows)
    total = await db.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.tags.contains(["vip"]), Contact.status == "active", Contact.is_active.is_(False))
    )
    assert len(rows) == total
    assert {c.company for c in (await page(db, ContactFilter(company="co1"), limit=100)).contacts} == {"Co1"}


async def test_search_is_by_word_prefix(db):
    await contacts.create_contact(
        db, {"email": "jane.doe@acme.io", "first_name": "Jane", "last_name": "Doe", "company": "Initech"}
    )
    await contacts.create_contact(db, {"email": "bob@example.com", "first_name": "Bob", "company": "Hooli"})
    await db.commit()

    async def found(q: str) -> list[str]:
        return [c.email for c in (await page(db, ContactFilter(q=q))).contacts]

    assert await found("ja do") == ["jane.doe@acme.io"]
    assert await found("ACM") == ["jane.doe@acme.io"]
    assert await found("jane.doe@acme.io") == ["jane.doe@acme.io"]
    assert await found("init") == ["jane.doe@acme.io"]
    assert await found("hoo") == ["bob@example.com"]
    assert await found("zzz") == []
    assert search_query("  ") is None and search_query("x" * 500) == "x" * 100 + ":*"
    # Nothing searchable typed finds nobody, not everybody (a search then exported would be everyone).
    assert await found("%") == [] and await found("_") == [] and await found("!!!") == []
    assert len(await found("  ")) == 2  # a blank box is no search


async def test_anything_typed_or_forged_gives_a_page(db):
    await seed(db, 5)
    for value in NASTY:
        filters = ContactFilter(q=value, tag=value.replace("\x00", ""), company=value.replace("\x00", ""))
        await page(db, filters)
        await estimate_count(db, filters)
    for cursor in [
        "",
        "garbage",
        "!!!",
        "W10",
        "WyJhZnRlciIsIFsxLCAyXV0",
        "WyJzaWRld2F5cyIsIFtdXQ",
        "WyJhZnRlciIsIFsiMjAyMC0wMS0wMSIsIDFlOTk5XV0",
        "WyJhZnRlciIsIHsiYSI6IDEsICJiIjogMn1d",
        "x" * 10000,
    ]:
        assert decode_cursor(cursor, "newest") is None, cursor
        assert len((await page(db, ContactFilter(), cursor=cursor, limit=3)).contacts) == 3
    # a cursor made for one sort is not used for another with a different shape
    cursor = (await page(db, ContactFilter(), sort="name", limit=2)).next_cursor
    assert decode_cursor(cursor, "name") and decode_cursor(cursor, "newest") is None


async def test_estimate_count_is_exact_for_small_sets(db):
    assert await estimate_count(db, ContactFilter()) == (0, True)
    await seed(db, 120)
    assert await estimate_count(db, ContactFilter()) == (120, True)
    # the filtered branch asks the planner (EXPLAIN with bound parameters), then counts for real
    vip = await db.scalar(select(func.count()).select_from(Contact).where(Contact.tags.contains(["vip"])))
    assert await estimate_count(db, ContactFilter(tag="vip")) == (vip, True)
    assert await estimate_count(db, ContactFilter(q="c1", status="bounced", is_active=True)) == (
        await db.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.search.op("@@")(func.to_tsquery(text("'simple'::regconfig"), "c1:*")),
                Contact.status == "bounced",
                Contact.is_active.is_(True),
            )
        ),
        True,
    )
    assert await estimate_count(db, ContactFilter(company="nobody")) == (0, True)


async def test_estimate_count_estimates_large_sets(db):
    await seed(db, 20_000)
    await db.execute(text("ANALYZE contacts"))
    count, exact = await estimate_count(db, ContactFilter())
    assert not exact and 19_000 <= count <= 21_000
    count, exact = await estimate_count(db, ContactFilter(status="active"))  # 3 in 4 rows
    assert not exact and 13_500 <= count <= 16_500
    # bounced and inactive: none, but the planner assumes independence and expects 2,500: counted
    assert await estimate_count(db, ContactFilter(status="bounced", is_active=False)) == (0, True)


async def test_a_big_delete_leaves_no_stale_estimate_behind(db):
    await seed(db, 20_000)
    await db.execute(text("ANALYZE contacts"))
    await db.commit()
    assert await contacts.delete_contacts(db, ContactFilter(q="c1")) == 11_111  # c1, c10…c19, c100…c199, …
    await db.commit()
    count, _ = await estimate_count(db, ContactFilter())
    assert 8_000 <= count <= 9_800, count  # not the 20,000 of the statistics before the delete
    assert await contacts.delete_contacts(db, ContactFilter(q="c2")) == 1_112
    await db.commit()
    assert (await estimate_count(db, ContactFilter()))[0] > 7_000  # a small delete leaves them to autovacuum


# ---- page(): the three ways of reading a filtered page -------------------------------------


async def seed_bunched(db, n: int = 300) -> int:
    """n contacts with `event` on the 40 oldest, `regular` on all but the 60 newest and `Acme` on 30
    in the middle, so matches bunch up in date order; names, companies and dates repeat (ties broken
    by id). Returns a list's id holding every fifth contact. Analysed: the planner's estimates are real."""
    await db.execute(
        text(
            "INSERT INTO contacts (email, first_name, last_name, company, status, is_active, tags, date_added, "
            "last_updated) "
            "SELECT 'c' || g || '@example.com', 'F' || (g % 7), 'L' || (g % 5), "
            "CASE WHEN g BETWEEN 140 AND 169 THEN 'Acme' ELSE 'Co' || (g % 3) END, "
            "CASE WHEN g % 4 = 0 THEN 'bounced' ELSE 'active' END, g % 2 = 0, "
            "array_remove(ARRAY[CASE WHEN g % 3 = 0 THEN 'vip' END, CASE WHEN g <= 40 THEN 'event' END, "
            "CASE WHEN g <= :n - 60 THEN 'regular' END], NULL), "
            "timestamp '2024-01-01' + (g / 4) * interval '1 day', timestamp '2024-02-01' + (g % 6) * interval '1 hour' "
            "FROM generate_series(1, :n) g"
        ),
        {"n": n},
    )
    email_list = await lists.create_list(db, {"name": "Every fifth"}, created_by="test")
    await lists.add_members(db, email_list.id, list(range(5, n + 1, 5)))
    await db.commit()
    await db.execute(text("ANALYZE contacts"))
    await db.execute(text("ANALYZE list_members"))
    return email_list.id


@contextlib.contextmanager
def statements(db):
    """The SQL statements the session sends, as they are sent."""
    sent: list[str] = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    engine = db.bind.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def filter_cases(list_id: int) -> list[ContactFilter]:
    return [
        ContactFilter(tag="event"),  # bunched at the old end
        ContactFilter(tag="regular"),  # most contacts, but not the newest
        ContactFilter(q="acme"),  # bunched in the middle
        ContactFilter(tags=("vip",), status="active"),  # spread out
        ContactFilter(company="co1", is_active=True),
        ContactFilter(list_id=list_id),
        ContactFilter(q="c1", tag="vip"),  # two indexed filters
        ContactFilter(tag="nobody"),
    ]


# gather_below: 10**9 gathers every time, 0 probes every time (and gathers when the probes fail).
@pytest.mark.parametrize("gather_below", [10**9, 0], ids=["gather", "probe"])
@pytest.mark.parametrize("sort", list(SORTS))
async def test_filtered_pages_return_every_match_once_in_order(db, sort, gather_below):
    list_id = await seed_bunched(db)
    for filters in filter_cases(list_id):
        want = list(await db.scalars(apply_filter(filters, expected_order(sort))))
        for limit in (7, 50):
            got = await walk_both_ways(db, filters, sort, limit, gather_below=gather_below)
            assert got == want, (filters, limit)


async def test_probe_gives_up_on_bunched_matches_and_gathers(db):
    await seed_bunched(db)
    newest_events = list(await db.scalars(apply_filter(ContactFilter(tag="event"), expected_order("newest"))))
    with statements(db) as sent:
        result = await page(db, ContactFilter(tag="event"), sort="newest", limit=5, gather_below=0)
    # the 260 newest rows hold no event: the probe comes back empty, and gathering also counts
    assert [c.id for c in result.contacts] == newest_events[:5]
    assert sum("AS walk" in s for s in sent) >= 1 and sum("MATERIALIZED" in s for s in sent) == 1
    assert (result.count, result.count_exact) == (40, True)
    assert await estimate_count(db, ContactFilter(tag="event"), result) == (40, True)

    with statements(db) as sent:  # the oldest first: the probe's first rows are matches
        result = await page(db, ContactFilter(tag="event"), sort="oldest", limit=5, gather_below=0)
    assert [c.id for c in result.contacts] == newest_events[::-1][:5]
    assert not any("MATERIALIZED" in s for s in sent) and not result.count_exact

    regulars = list(await db.scalars(apply_filter(ContactFilter(tag="regular"), expected_order("newest"))))
    with statements(db) as sent:  # 240 matches: a second probe 4x longer is cheaper than gathering
        result = await page(db, ContactFilter(tag="regular"), sort="newest", limit=5, gather_below=0)
    assert [c.id for c in result.contacts] == regulars[:5]
    assert sum("AS walk" in s for s in sent) == 2 and not any("MATERIALIZED" in s for s in sent)


async def test_gathering_counts_every_match_on_every_page(db):
    list_id = await seed_bunched(db)
    filters = ContactFilter(list_id=list_id, tag="vip")
    total = await db.scalar(apply_filter(filters, select(func.count()).select_from(Contact)))
    assert 0 < total < 50
    cursor = None
    for _ in range(3):
        result = await page(db, filters, sort="email", cursor=cursor, limit=4)  # planned: few, so gathered
        assert (result.count, result.count_exact) == (total, True)
        assert await estimate_count(db, filters, result) == (total, True)
        cursor = result.next_cursor
    # a cursor past the last match: nothing on the page says how many there are, so they are counted
    last = (await page(db, filters, sort="email", limit=100)).contacts[-1]
    beyond = encode_cursor("after", [last.email.lower(), last.id])
    result = await page(db, filters, sort="email", cursor=beyond)
    assert result.contacts == [] and result.count is None
    assert await estimate_count(db, filters, result) == (total, True)


# ---- services.contacts ----------------------------------------------------------------------


async def test_duplicates_name_the_existing_contact(db):
    first = await contacts.create_contact(db, {"email": "Dup@Example.com"})
    await db.commit()
    with pytest.raises(Conflict) as raised:
        await contacts.create_contact(db, {"email": "dup@example.com"})
    assert raised.value.existing_id == first.id and f"contact #{first.id}" in raised.value.message
    with pytest.raises(Conflict):
        await contacts.check_email(db, "DUP@example.com")
    assert await contacts.check_email(db, "dup@example.com", exclude_id=first.id) == "dup@example.com"
    with pytest.raises(ValidationFailed) as invalid:
        await contacts.check_email(db, "nope@")
    assert "email" in invalid.value.errors


async def test_custom_field_names_and_values_are_checked(db):
    for bad, message in [
        ({"1x": "a"}, "not a valid field name"),
        ({"a b": "a"}, "not a valid field name"),
        ({"email": "a"}, "standard contact field"),
        ({"First_Name": "a"}, "standard contact field"),
        ({"plan": "a", "Plan": "b"}, "'plan' and 'Plan' differ only in capitals"),
        ({"k": {"nested": 1}}, "values must be text"),
        ({"k": "v\x00"}, "NUL"),
        ({"k": "v" * 2001}, "at most 2000"),
    ]:
        with pytest.raises(ValidationFailed) as raised:
            load(ContactCreate, {"email": "a@example.com", "custom_fields": bad})
        assert message in raised.value.errors["custom_fields"], bad
    with pytest.raises(ValidationFailed) as raised:
        load(ContactCreate, {"email": "a@example.com", "first_name": "a\x00"})
    assert "NUL" in raised.value.errors["first_name"]
    ok = load(ContactCreate, {"email": "a@example.com", "custom_fields": {"plan_2": 3, "_x": None}})
    assert ok["custom_fields"] == {"plan_2": 3, "_x": None}


async def test_bulk_tags_count_only_changed_rows(db):
    a = await contacts.create_contact(db, {"email": "a@example.com", "tags": ["vip"]})
    b = await contacts.create_contact(db, {"email": "b@example.com"})
    assert await contacts.add_tag(db, [a.id, b.id], " VIP ") == 1
    assert await contacts.add_tag(db, [a.id, b.id], "vip") == 0
    assert await contacts.remove_tag(db, [a.id], "vip") == 1
    with pytest.raises(ValidationFailed):
        await contacts.add_tag(db, [a.id], "  ")
    assert await contacts.delete_contacts(db, [a.id, b.id, 999]) == 2


async def test_get_contact_with_impossible_ids(db):
    for contact_id in [0, -1, 999, 2**63, 10**30]:
        with pytest.raises(NotFound):
            await contacts.get_contact(db, contact_id)
