"""The /suppression page against the real server: counts per reason, search as you type, reason
filter and keyset pages, add one (inline validation, input kept), paste many (bad lines reported by
number, good ones added), remove with a reason after a confirmation page; viewers only read."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from webapp.suppression.models import Suppression
from webapp.suppression.service import suppression

NO_ERROR = '<p class="field-error" id="email-error"></p>'  # the slot the field names, empty


async def seed(db, entries: list[tuple[str, str]]) -> None:
    for email, reason in entries:
        await suppression.add(db, email, reason, note=f"note for {email}")
    await db.commit()


def emails_shown(html: str) -> list[str]:
    return re.findall(r'<td class="email">([^<]+)</td>', html)


async def reasons_of(db) -> dict[str, str]:
    db.expire_all()
    return dict((await db.execute(select(Suppression.email, Suppression.reason))).all())


async def test_page_shows_counts_per_reason_and_the_newest_first(staff, db):
    await seed(db, [("a@example.com", "bounce"), ("b@example.com", "bounce"), ("c@example.com", "complaint")])
    client = await staff("viewer")
    page = client.get("/suppression")
    assert page.status_code == 200
    assert 'href="/suppression" aria-current="page">Suppression</a>' in page.text  # sidebar entry
    stats = dict(re.findall(r'data-reason="(\w+)">\s*<span class="stat-value">(\d+)</span>', page.text))
    assert stats == {"bounce": "2", "complaint": "1", "unsubscribe": "0", "manual": "0", "compliance": "0"}
    assert '<span class="stat-value">3</span>' in page.text
    assert emails_shown(page.text) == ["c@example.com", "b@example.com", "a@example.com"]
    # viewers read only: no forms, no remove buttons
    assert 'action="/suppression/bulk"' not in page.text and 'id="suppression-add"' not in page.text
    assert "Remove…" not in page.text
    assert client.post("/suppression", data={"email": "x@example.com"}).status_code == 403
    assert client.post("/suppression/bulk", data={"addresses": "x@example.com"}).status_code == 403
    assert client.get("/suppression/1/remove").status_code == 403
    assert client.post("/suppression/1/remove", data={"reason": "x"}).status_code == 403
    assert await reasons_of(db) == {"a@example.com": "bounce", "b@example.com": "bounce", "c@example.com": "complaint"}


async def test_search_as_you_type_answers_the_results_partial(staff, db):
    await seed(db, [("anna@example.com", "manual"), ("andrew@example.com", "bounce"), ("bob@example.com", "manual")])
    client = await staff("viewer")
    partial = client.get(
        "/suppression", params={"q": "AN"}, headers={"HX-Request": "true", "HX-Target": "suppression-results"}
    )
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="suppression-results">')
    assert "<html" not in partial.text
    assert emails_shown(partial.text) == ["andrew@example.com", "anna@example.com"]

    filtered = client.get("/suppression", params={"q": "an", "reason": "bounce"})
    assert emails_shown(filtered.text) == ["andrew@example.com"]
    assert 'value="an"' in filtered.text and '<option value="bounce" selected>' in filtered.text

    none = client.get("/suppression", params={"q": "zzz"})
    assert "No suppressed address matches" in none.text
    assert client.get("/suppression", params={"cursor": "not-a-cursor", "reason": "bogus"}).status_code == 200


async def test_keyset_pager_walks_every_row_once(staff, db):
    await suppression.add_many(db, [f"p{i:03}@example.com" for i in range(120)], "manual")
    await db.commit()
    client = await staff("viewer")
    seen: list[str] = []
    url = "/suppression?reason=manual"
    for _ in range(5):
        page = client.get(url).text
        seen += emails_shown(page)
        found = re.search(r'rel="next" href="([^"]+)"', page)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
        assert "reason=manual" in url  # the filter stays on
    assert seen == [f"p{i:03}@example.com" for i in reversed(range(120))]


async def test_add_one_address(staff, db):
    client = await staff("editor")
    page = client.get("/suppression").text
    assert 'id="suppression-add"' in page and 'hx-post="/suppression/validate-email"' in page

    response = client.post(
        "/suppression", data={"email": " Someone@Example.com ", "reason": "complaint", "note": "Called to complain"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/suppression"
    entry = await db.scalar(select(Suppression))
    assert (entry.email, entry.reason, entry.note, entry.source, entry.created_by) == (
        "Someone@example.com",
        "complaint",
        "Called to complain",
        "staff",
        "Editor",
    )
    assert "Someone@example.com is suppressed (complaint)" in client.get("/suppression").text

    again = client.post("/suppression", data={"email": "someone@example.com", "reason": "manual"})
    assert again.status_code == 303
    assert "was suppressed already (complaint" in client.get("/suppression").text
    assert await reasons_of(db) == {"Someone@example.com": "complaint"}


async def test_add_form_errors_are_shown_next_to_fields_and_keep_what_was_typed(staff, db):
    client = await staff("editor")
    response = client.post(
        "/suppression", data={"email": "not-an-<address>", "reason": "spam", "note": "keep <this> note"}
    )
    assert response.status_code == 422
    assert 'value="not-an-&lt;address&gt;"' in response.text  # kept, and escaped
    assert 'value="keep &lt;this&gt; note"' in response.text
    assert response.text.count('class="field invalid"') == 2  # email and reason
    assert "Not a valid address:" in response.text and "Choose a reason" in response.text
    assert await reasons_of(db) == {}

    empty = client.post("/suppression", data={"reason": "manual"})
    assert empty.status_code == 422 and "Enter an email address." in empty.text


async def test_inline_email_check(staff, db):
    await seed(db, [("taken@example.com", "bounce")])
    client = await staff("editor")
    bad = client.post("/suppression/validate-email", data={"email": "nope@"})
    assert bad.status_code == 200 and "<form" not in bad.text and "field-error" in bad.text
    known = client.post("/suppression/validate-email", data={"email": "TAKEN@example.com"})
    assert "Already suppressed (bounce, since" in known.text
    fine = client.post("/suppression/validate-email", data={"email": "new@example.com"})
    assert NO_ERROR in fine.text and "Already suppressed" not in fine.text


async def test_bulk_paste_adds_the_good_lines_and_reports_the_bad_ones_by_number(staff, db):
    await seed(db, [("known@example.com", "bounce")])
    client = await staff("editor")
    pasted = "one@example.com\nbroken-line\n\nknown@example.com\ntwo@example.com\nalso <bad>@\n"
    response = client.post(
        "/suppression/bulk", data={"addresses": pasted, "reason": "unsubscribe", "note": "paper form"}
    )
    assert response.status_code == 200
    assert "Suppressed 2 new addresses, 1 already on the list, 2 not added (see below)." in response.text
    report = re.findall(r'<td class="num">(\d+)</td><td><code>([^<]*)</code></td>', response.text)
    assert report == [("2", "broken-line"), ("6", "also &lt;bad&gt;@")]
    # the refused lines stay in the box, to be corrected and sent again
    assert re.search(r'<textarea id="addresses"[^>]*>broken-line\nalso &lt;bad&gt;@</textarea>', response.text)
    assert '<option value="unsubscribe" selected>' in response.text and 'value="paper form"' in response.text
    assert await reasons_of(db) == {
        "known@example.com": "bounce",
        "one@example.com": "unsubscribe",
        "two@example.com": "unsubscribe",
    }

    all_good = client.post("/suppression/bulk", data={"addresses": "three@example.com", "reason": "manual"})
    assert all_good.status_code == 303
    nothing = client.post("/suppression/bulk", data={"addresses": "  \n ", "reason": "manual"})
    assert nothing.status_code == 422 and "Paste at least one email address" in nothing.text
    only_bad = client.post("/suppression/bulk", data={"addresses": "bad", "reason": "manual"})
    assert only_bad.status_code == 422 and '<td class="num">1</td>' in only_bad.text


async def test_remove_asks_for_a_reason_on_a_confirmation_page(staff, db):
    await seed(db, [("gone@example.com", "bounce"), ("stays@example.com", "manual")])
    entry_id = await db.scalar(select(Suppression.id).where(Suppression.email == "gone@example.com"))
    client = await staff("editor")
    assert f'href="/suppression/{entry_id}/remove"' in client.get("/suppression").text

    confirm = client.get(f"/suppression/{entry_id}/remove")
    assert confirm.status_code == 200
    assert "gone@example.com" in confirm.text and "bounced" in confirm.text
    assert f'action="/suppression/{entry_id}/remove"' in confirm.text

    missing = client.post(f"/suppression/{entry_id}/remove", data={"reason": "   "})
    assert missing.status_code == 422
    assert "Say why this address may receive mail again." in missing.text
    assert await reasons_of(db) == {"gone@example.com": "bounce", "stays@example.com": "manual"}

    done = client.post(f"/suppression/{entry_id}/remove", data={"reason": "Mailbox fixed, confirmed by phone"})
    assert done.status_code == 303
    assert "gone@example.com was removed from the suppression list" in client.get("/suppression").text
    assert await reasons_of(db) == {"stays@example.com": "manual"}
    assert client.get(f"/suppression/{entry_id}/remove").status_code == 404
    assert client.post(f"/suppression/{entry_id}/remove", data={"reason": "x"}).status_code == 404


async def test_htmx_add_answers_with_hx_location(staff, db):
    client = await staff("editor")
    response = client.post(
        "/suppression", data={"email": "hx@example.com", "reason": "manual"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and json.loads(response.headers["hx-location"])["path"] == "/suppression"
    assert await reasons_of(db) == {"hx@example.com": "manual"}
