"""The contacts pages against the real server: table, search, filters, pages, bulk actions, the
form (errors keep what was typed), detail, delete, and what a viewer may not do."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select, text, update

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.lists.models import ListMember
from webapp.lists.service import lists
from webapp.suppression.service import suppression

HX = {"HX-Request": "true"}
HX_RESULTS = {"HX-Request": "true", "HX-Target": "contacts-results"}

NO_ERROR = '<p class="field-error" id="email-error"></p>'  # the slot the field names, empty


def form(**fields):
    """A contact form as a browser sends it: every field present, blanks included."""
    base = {
        "email": "",
        "first_name": "",
        "last_name": "",
        "phone": "",
        "company": "",
        "job_title": "",
        "location": "",
        "tags": "",
        "status": "active",
        "language": "",
        "is_active": "yes",
        "cf_key": "",
        "cf_value": "",
    }
    return {**base, **fields}


def emails_in(html: str) -> list[str]:
    return re.findall(r'<td class="email"><a href="/contacts/\d+">([^<]+)</a>', html)


def flash_text(client, url: str = "/contacts") -> str:
    return " ".join(re.findall(r'class="flash [^"]*">([^<]*)<', client.get(url).text))


async def seed(db, n: int, **columns) -> None:
    """n contacts in one statement: user001@example.com ..., the newest first by date_added."""
    await db.execute(
        text(
            "INSERT INTO contacts (email, first_name, last_name, company, date_added) "
            "SELECT 'user' || lpad(g::text, greatest(3, length(g::text)), '0') || '@example.com', "
            "'First' || g, 'Last' || g, :company, "
            "now() - g * interval '1 minute' FROM generate_series(1, :n) g"
        ),
        {"n": n, "company": columns.get("company", "Acme")},
    )
    await db.commit()


async def add(db, **data) -> Contact:
    contact = await contacts.create_contact(db, data)
    await db.commit()
    return contact


# ---- the table --------------------------------------------------------------------------


async def test_empty_state_says_what_to_do(staff):
    editor = await staff("editor")
    page = editor.get("/contacts")
    assert page.status_code == 200
    assert "No contacts yet" in page.text and 'href="/contacts/new"' in page.text


async def test_table_shows_contacts_with_tags_status_and_exact_count(db, staff):
    await add(
        db,
        email="ann@example.com",
        first_name="Ann",
        last_name="Lee",
        company="Globex",
        tags=["vip", "beta"],
        status="bounced",
    )
    page = (await staff("editor")).get("/contacts")
    assert emails_in(page.text) == ["ann@example.com"]
    assert "Ann Lee" in page.text and "Globex" in page.text
    assert '<span class="chip">vip</span>' in page.text and '<span class="badge bounced">' in page.text
    assert "1 contact" in page.text and "≈" not in page.text
    assert 'name="ids"' in page.text and 'data-select-all="ids"' in page.text


async def test_search_finds_by_name_company_and_email_prefix(db, staff):
    await add(db, email="zed@alpha.io", first_name="Zed", last_name="Quinn", company="Initech")
    await add(db, email="mara@beta.io", first_name="Mara", last_name="Stone", company="Hooli")
    client = await staff("viewer")
    assert emails_in(client.get("/contacts", params={"q": "qui"}).text) == ["zed@alpha.io"]
    assert emails_in(client.get("/contacts", params={"q": "hoo"}).text) == ["mara@beta.io"]
    assert emails_in(client.get("/contacts", params={"q": "mara@be"}).text) == ["mara@beta.io"]
    assert emails_in(client.get("/contacts", params={"q": "zed quinn"}).text) == ["zed@alpha.io"]
    # as you type: the search box asks for the results only
    partial = client.get("/contacts", params={"q": "ini"}, headers=HX_RESULTS)
    assert partial.text.lstrip().startswith('<div id="contacts-results">')
    assert "<html" not in partial.text and emails_in(partial.text) == ["zed@alpha.io"]
    assert "HX-Target" in partial.headers["vary"]
    empty = client.get("/contacts", params={"q": "nobody"})
    assert "No contacts match" in empty.text and "Clear filters" in empty.text
    # a whole address is that contact, not every address that begins with it
    await add(db, email="mara@beta.io.example", first_name="Other")
    assert emails_in(client.get("/contacts", params={"q": " Mara@Beta.io "}).text) == ["mara@beta.io"]
    assert sorted(emails_in(client.get("/contacts", params={"q": "mara@beta"}).text)) == [
        "mara@beta.io",
        "mara@beta.io.example",
    ]


async def test_filters_by_tag_company_status_and_active(db, staff):
    await add(db, email="a@example.com", company="Acme", tags=["vip"])
    await add(db, email="b@example.com", company="acme", status="unsubscribed")
    await add(db, email="c@example.com", company="Other", is_active=False, tags=["vip"])
    client = await staff("viewer")

    def found(**params):
        return sorted(emails_in(client.get("/contacts", params=params).text))

    assert found(tag="VIP") == ["a@example.com", "c@example.com"]
    assert found(company="ACME") == ["a@example.com", "b@example.com"]
    assert found(status="unsubscribed") == ["b@example.com"]
    assert found(active="no") == ["c@example.com"]
    assert found(active="yes", tag="vip") == ["a@example.com"]


async def test_sort_and_keyset_pages_forward_and_back(db, staff):
    await seed(db, 120)
    client = await staff("viewer")
    first = client.get("/contacts")
    assert "120 contacts" in first.text
    page1 = emails_in(first.text)
    assert page1 == [f"user{n:03}@example.com" for n in range(1, 51)]  # newest first
    assert 'rel="prev"' not in first.text

    def link(html: str, rel: str) -> str:
        return re.search(rf'rel="{rel}" href="([^"]+)"', html).group(1).replace("&amp;", "&")

    second = client.get(link(first.text, "next"))
    assert emails_in(second.text) == [f"user{n:03}@example.com" for n in range(51, 101)]
    third = client.get(link(second.text, "next"))
    assert emails_in(third.text) == [f"user{n:03}@example.com" for n in range(101, 121)]
    assert 'rel="next"' not in third.text
    back = client.get(link(third.text, "prev"))
    assert emails_in(back.text) == emails_in(second.text)
    assert emails_in(client.get(link(back.text, "prev")).text) == page1

    by_email = client.get("/contacts", params={"sort": "oldest", "q": "user"})
    assert emails_in(by_email.text)[:2] == ["user120@example.com", "user119@example.com"]
    nxt = link(by_email.text, "next")
    assert "sort=oldest" in nxt and "q=user" in nxt  # pages keep the sort and the search
    assert emails_in(client.get(nxt).text)[0] == "user070@example.com"


async def test_bad_query_params_show_a_page(db, staff):
    await seed(db, 3)
    client = await staff("viewer")
    for params in [
        {"sort": "nope"},
        {"status": "weird"},
        {"active": "maybe"},
        {"cursor": "garbage!!"},
        {"cursor": "WyJhZnRlciIsIFsxLCAyXV0"},  # a well-formed cursor of the wrong shape
        {"cursor": "WyJhZnRlciIsIFsiMjAyMC0wMS0wMSIsIDFlOTk5XV0"},  # id 1e999
        {"q": "x" * 5000},
        {"q": "a:* & !b | (c"},
        {"sort": ["email", "name"]},
    ]:
        response = client.get("/contacts", params=params)
        assert response.status_code == 200, (params, response.text[:300])
    for name in ("q", "tag", "company", "status"):  # a NUL in any parameter is a 400 naming it
        response = client.get("/contacts", params={name: "\x00vip"})
        assert (
            response.status_code == 400 and f"{name}: Contains a character that is not allowed (NUL)" in response.text
        )


# ---- bulk actions ---------------------------------------------------------------------------


async def test_bulk_tag_untag_add_to_list_and_delete(db, staff):
    a, b, c = [await add(db, email=f"{n}@example.com") for n in "abc"]
    newsletter = await lists.create_list(db, {"name": "Newsletter"}, "test")
    await db.commit()
    editor = await staff("editor")
    page = editor.get("/contacts")
    assert "Newsletter" in page.text  # the add-to-list choice

    ids = [a.id, b.id, c.id]
    response = editor.post(
        "/contacts/bulk", data={"ids": ids, "action": "tag", "tag": " VIP ", "next": "/contacts?q=x"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/contacts?q=x"
    assert "Tagged 3 contacts." in flash_text(editor)
    response = editor.post("/contacts/bulk", data={"ids": [a.id], "action": "untag", "tag": "vip"})
    assert "Removed the tag from 1 contact." in flash_text(editor)
    tags = dict((await db.execute(select(Contact.email, Contact.tags).execution_options(populate_existing=True))).all())
    assert tags == {"a@example.com": [], "b@example.com": ["vip"], "c@example.com": ["vip"]}

    full = [f"t{i}" for i in range(100)]  # a contact with the most tags one may have is not given more
    await db.execute(update(Contact).where(Contact.id == c.id).values(tags=full))
    await db.commit()
    editor.post("/contacts/bulk", data={"ids": [b.id, c.id], "action": "tag", "tag": "spring"})
    assert "Tagged 1 contact. 1 contact with 100 tags already not tagged." in flash_text(editor)
    assert (
        await db.scalar(select(Contact.tags).where(Contact.id == c.id).execution_options(populate_existing=True))
    ) == full

    editor.post("/contacts/bulk", data={"ids": [a.id, b.id], "action": "add_to_list", "list_id": newsletter.id})
    assert "Added 2 contacts to Newsletter." in flash_text(editor)
    members = set(await db.scalars(select(ListMember.contact_id).where(ListMember.list_id == newsletter.id)))
    assert members == {a.id, b.id}

    # HTMX (hx-confirm already asked): deleted at once, answered with HX-Location
    response = editor.post(
        "/contacts/bulk",
        data={"ids": [b.id, c.id], "action": "delete", "confirm": "yes", "next": "/contacts"},
        headers=HX,
    )
    assert response.status_code == 200 and "/contacts" in response.headers["hx-location"]
    assert "Deleted 2 contacts." in flash_text(editor)
    assert list(await db.scalars(select(Contact.email))) == ["a@example.com"]


async def test_bulk_delete_without_javascript_asks_first(db, staff):
    a = await add(db, email="a@example.com")
    editor = await staff("editor")
    ask = editor.post("/contacts/bulk", data={"ids": str(a.id), "action": "delete", "next": "/contacts"})
    assert ask.status_code == 200 and "Delete 1 contact?" in ask.text
    assert 'name="confirm" value="yes"' in ask.text and f'name="ids" value="{a.id}"' in ask.text
    assert await db.scalar(select(Contact.id)) == a.id  # nothing deleted yet
    done = editor.post(
        "/contacts/bulk", data={"ids": str(a.id), "action": "delete", "confirm": "yes", "next": "/contacts"}
    )
    assert done.status_code == 303
    assert await db.scalar(select(Contact.id)) is None


async def test_bulk_problems_are_messages_not_errors(db, staff):
    a = await add(db, email="a@example.com")
    editor = await staff("editor")
    editor.post("/contacts/bulk", data={"action": "tag", "tag": "vip"})
    assert "Select at least one contact first." in flash_text(editor)
    editor.post("/contacts/bulk", data={"ids": a.id, "action": "tag", "tag": "  "})
    assert "Enter a tag." in flash_text(editor)
    editor.post("/contacts/bulk", data={"ids": a.id, "action": "tag", "tag": "a,b"})
    assert "One tag at a time: a tag cannot contain a comma." in flash_text(editor)
    assert (
        await db.scalar(select(Contact.tags).where(Contact.id == a.id).execution_options(populate_existing=True)) == []
    )
    for list_id in ["", "x", "99999999999999999999"]:
        editor.post("/contacts/bulk", data={"ids": a.id, "action": "add_to_list", "list_id": list_id})
        assert "Choose a list" in flash_text(editor)
    assert (
        editor.post("/contacts/bulk", data={"ids": a.id, "action": "add_to_list", "list_id": "77"}).status_code == 404
    )
    editor.post("/contacts/bulk", data={"ids": a.id, "action": "explode"})
    assert "Choose what to do" in flash_text(editor)
    for bad in ["abc", "-1", "1.5", "99999999999999999999", "0"]:
        response = editor.post("/contacts/bulk", data={"ids": [str(a.id), bad], "action": "tag", "tag": "x"})
        assert response.status_code == 422 and "is not a contact id" in response.text, bad
    off_site = editor.post("/contacts/bulk", data={"ids": a.id, "action": "tag", "tag": "x", "next": "//evil.example"})
    assert off_site.headers["location"] == "/contacts"
    crlf = editor.post(
        "/contacts/bulk", data={"ids": a.id, "action": "tag", "tag": "x", "next": "/contacts?q=a\r\nX-Evil: 1"}
    )
    assert crlf.status_code == 303 and crlf.headers["location"] == "/contacts" and "x-evil" not in crlf.headers


def matching_field(page_html: str) -> str:
    return unescape(re.search(r'name="matching" value="([^"]*)"', page_html).group(1))


async def count_where(db, sql: str) -> int:
    return await db.scalar(text(f"SELECT count(*) FROM contacts WHERE {sql}"))


async def test_every_bulk_action_reaches_all_matching_contacts_after_confirming_the_number(db, staff):
    """More matches than a page (and than the 1,000 ids a form may tick): each action applies to
    the filter itself, after a confirmation that states how many contacts it will touch."""
    await seed(db, 1500, company="Acme")
    other = await add(db, email="other@example.com", company="Elsewhere")
    newsletter = await lists.create_list(db, {"name": "Newsletter"}, "test")
    await db.commit()
    editor = await staff("editor")
    table = editor.get("/contacts?company=acme").text
    assert len(emails_in(table)) == 50
    assert 'name="scope" value="matching"' in table and "Select all 1,500 matching contacts" in table
    matching = matching_field(table)
    assert matching == "company=acme"

    def post(action: str, **fields):
        data = {"scope": "matching", "matching": matching, "action": action, "next": "/contacts?company=acme"}
        return editor.post("/contacts/bulk", data={**data, **fields})

    for action, fields, question in [
        ("tag", {"tag": "VIP"}, "Add the tag “vip” to 1,500 contacts?"),
        ("untag", {"tag": "vip"}, "Remove the tag “vip” from 1,500 contacts?"),
        ("add_to_list", {"list_id": newsletter.id}, "Add 1,500 contacts to the list Newsletter?"),
        ("delete", {}, "Delete 1,500 contacts? This cannot be undone."),
    ]:
        ask = post(action, **fields)
        assert ask.status_code == 200, action
        page = unescape(ask.text)
        assert question in page and "All contacts matching company “acme”." in page, page
        assert 'name="confirm" value="1500"' in ask.text
        assert await count_where(db, "true") == 1501  # nothing happened yet
        if action == "tag":
            assert await count_where(db, "'vip' = ANY(tags)") == 0
        done = post(action, confirm="1500", **fields)
        assert done.status_code == 303 and done.headers["location"] == "/contacts?company=acme", action
        if action == "tag":
            assert "Tagged 1,500 contacts." in flash_text(editor)
            assert await count_where(db, "'vip' = ANY(tags)") == 1500
        elif action == "untag":
            assert "Removed the tag from 1,500 contacts." in flash_text(editor)
            assert await count_where(db, "'vip' = ANY(tags)") == 0
        elif action == "add_to_list":
            assert "Added 1,500 contacts to Newsletter." in flash_text(editor)
            members = await db.scalar(select(func.count()).where(ListMember.list_id == newsletter.id))
            assert members == 1500
    assert "Deleted 1,500 contacts." in flash_text(editor)
    assert list(await db.scalars(select(Contact.id))) == [other.id]


async def test_a_matching_bulk_action_asks_again_when_the_number_changed(db, staff):
    await seed(db, 60, company="Acme")
    editor = await staff("editor")
    data = {"scope": "matching", "matching": "company=Acme", "action": "tag", "tag": "vip", "next": "/contacts"}
    ask = editor.post("/contacts/bulk", data=data)
    assert "Add the tag “vip” to 60 contacts?" in unescape(ask.text)
    await add(db, email="late@example.com", company="Acme")
    again = editor.post("/contacts/bulk", data={**data, "confirm": "60"})
    page = unescape(again.text)
    assert again.status_code == 200 and "Add the tag “vip” to 61 contacts?" in page
    assert "The number of matching contacts changed from 60 to 61." in page
    assert await count_where(db, "'vip' = ANY(tags)") == 0
    # No filter at all: every contact, and the page says so.
    everyone = editor.post("/contacts/bulk", data={**data, "matching": ""})
    assert "All contacts (no search or filter)." in unescape(everyone.text)
    # Problems with the action are reported before anything is asked.
    editor.post("/contacts/bulk", data={**data, "tag": " "})
    assert "Enter a tag." in flash_text(editor)


async def test_the_whole_match_is_offered_only_when_it_is_more_than_the_page(db, staff):
    await seed(db, 3)
    editor = await staff("editor")
    assert 'name="scope"' not in editor.get("/contacts").text


# ---- the form -------------------------------------------------------------------------------


async def test_create_contact_with_tags_and_custom_fields(db, staff):
    editor = await staff("editor")
    new = editor.get("/contacts/new")
    assert new.status_code == 200 and re.search(r'<input id="tags" name="tags"[^>]* data-chips', new.text)
    assert new.text.count('name="cf_key"') == 1  # one empty row without JavaScript
    assert 'aria-describedby="email-error"' in new.text and '<p class="field-error" id="email-error"></p>' in new.text
    assert '<input id="language" name="language"' in new.text  # shown and edited like the other fields
    response = editor.post(
        "/contacts",
        data=form(
            email="Jo@Example.com",
            first_name=" Jo ",
            company="Initech",
            tags="VIP, beta",
            language="ES",
            cf_key=["plan", "", "source"],
            cf_value=["pro", "", ""],
        ),
    )
    assert response.status_code == 303, response.text
    contact = await db.scalar(select(Contact))
    assert response.headers["location"] == f"/contacts/{contact.id}"
    assert (contact.email, contact.first_name, contact.company) == ("Jo@example.com", "Jo", "Initech")
    assert contact.tags == ["vip", "beta"] and contact.custom_fields == {"plan": "pro", "source": ""}
    assert "Contact added." in flash_text(editor, response.headers["location"])
    assert contact.language == "es" and "<dt>Language</dt><dd>es</dd>" in editor.get(f"/contacts/{contact.id}").text


async def test_errors_are_shown_next_to_fields_and_keep_what_was_typed(db, staff):
    editor = await staff("editor")
    response = editor.post(
        "/contacts",
        data=form(
            email="not-an-address",
            first_name="Ann",
            last_name="L" * 201,
            tags="vip, new",
            language="Klingon",
            cf_key=["1bad", "plan"],
            cf_value=["x", "gold"],
            is_active=[],
        ),
    )
    assert response.status_code == 422
    html = response.text
    assert "&#39;klingon&#39; is not a language code such as en or es-mx." in html and 'value="Klingon"' in html
    assert "Not a valid address" in html
    assert "Last name must be at most 200 characters." in html
    assert "&#39;1bad&#39; is not a valid field name" in html
    for typed in ['value="not-an-address"', 'value="Ann"', 'value="vip, new"', 'value="1bad"', 'value="gold"']:
        assert typed in html, typed
    assert await db.scalar(select(Contact.id)) is None

    # a value without a name, and a name twice: the form's own checks, with the service's
    twice = editor.post("/contacts", data=form(email="", cf_key=["plan", "plan", ""], cf_value=["a", "b", "c"]))
    assert twice.status_code == 422
    assert "Enter an email address." in twice.text and "Give every value a field name" in twice.text


async def test_duplicate_email_names_the_existing_contact(db, staff):
    existing = await add(db, email="dup@example.com")
    editor = await staff("editor")
    response = editor.post("/contacts", data=form(email="DUP@example.com", first_name="Second"))
    assert response.status_code == 422
    assert f'<a href="/contacts/{existing.id}">contact #{existing.id}</a>' in response.text
    assert 'value="Second"' in response.text
    assert response.text.count("already") == 1  # said once

    # with a custom field's problem too, both are said at once, not the address only after a second try
    both = editor.post("/contacts", data=form(email="dup@example.com", cf_key="1bad", cf_value="x"))
    assert both.status_code == 422
    assert f'<a href="/contacts/{existing.id}">contact #{existing.id}</a>' in both.text
    assert "&#39;1bad&#39; is not a valid field name" in both.text


async def test_email_is_checked_inline(db, staff):
    existing = await add(db, email="taken@example.com")
    editor = await staff("editor")

    def check(email: str, url: str = "/contacts/validate-email") -> str:
        response = editor.post(url, data={"email": email}, headers=HX)
        assert response.status_code == 200 and "<form" not in response.text  # the live region's contents
        return response.text

    assert "Not a valid address" in check("nope@")
    assert f'href="/contacts/{existing.id}"' in check("Taken@example.com")
    assert NO_ERROR in check("free@example.com")
    assert NO_ERROR in check("")
    assert NO_ERROR in check("taken@example.com", f"/contacts/validate-email?exclude={existing.id}")
    assert "already used" in check("taken@example.com", "/contacts/validate-email?exclude=99999999999999999999")
    assert "email-opted-out" not in check("free@example.com")
    await suppression.add_many(db, ["gone@example.com"], "unsubscribe", source="test")
    await db.commit()
    said = check("Gone@example.com")  # before saving: the status chosen on the form will not stick
    assert NO_ERROR in said and "This address is unsubscribed (it is on the suppression list)" in said


async def test_add_field_without_javascript_keeps_the_form(db, staff):
    editor = await staff("editor")
    response = editor.post("/contacts", data=form(email="x@example.com", cf_key="plan", cf_value="pro", add_field="1"))
    assert response.status_code == 200
    assert 'value="plan"' in response.text and response.text.count('name="cf_key"') == 2
    assert await db.scalar(select(Contact.id)) is None
    row = editor.get("/contacts/field-row", headers=HX)
    assert row.text.startswith('<div class="kv-row" id="cf-row-') and 'name="cf_value"' in row.text


async def test_edit_contact(db, staff):
    contact = await add(
        db,
        email="ed@example.com",
        first_name="Ed",
        phone="123",
        custom_fields={"score": 5, "vip": True, "note": "hi"},
        tags=["old"],
    )
    editor = await staff("editor")
    page = editor.get(f"/contacts/{contact.id}/edit")
    assert 'value="ed@example.com"' in page.text and 'value="5"' in page.text and 'value="old"' in page.text
    response = editor.post(
        f"/contacts/{contact.id}/edit",
        data=form(
            email="ed@example.com",
            first_name="Edward",
            phone="",
            tags="new",
            status="complained",
            cf_key=["score", "vip", "note"],
            cf_value=["5", "true", "changed"],
            is_active=[],
        ),
    )
    assert response.status_code == 303, response.text
    await db.refresh(contact)
    assert (contact.first_name, contact.phone, contact.tags, contact.status, contact.is_active) == (
        "Edward",
        "",
        ["new"],
        "complained",
        False,
    )
    assert contact.custom_fields == {"score": 5, "vip": True, "note": "changed"}  # untouched values keep their type

    other = await add(db, email="other@example.com")
    clash = editor.post(f"/contacts/{contact.id}/edit", data=form(email="OTHER@example.com"))
    assert clash.status_code == 422 and f"contact #{other.id}" in clash.text


async def test_htmx_submit_answers_with_hx_location(db, staff):
    editor = await staff("editor")
    response = editor.post("/contacts", data=form(email="hx@example.com"), headers=HX)
    contact = await db.scalar(select(Contact))
    assert response.status_code == 200 and response.headers["hx-location"].startswith(
        f'{{"path":"/contacts/{contact.id}"'
    )


async def test_nul_bytes_and_huge_values_are_messages(db, staff):
    editor = await staff("editor")
    response = editor.post(
        "/contacts",
        data=form(
            email="n@example.com",
            first_name="a\x00b",
            tags="x\x00y",
            cf_key="k",
            cf_value="v\x00",
        ),
    )
    assert response.status_code == 422 and "not allowed (NUL)" in response.text
    huge = editor.post("/contacts", data=form(email="h@example.com", cf_key="big", cf_value="v" * 5000))
    assert huge.status_code == 422 and "at most 2000 characters" in huge.text


# ---- detail, delete, lists ------------------------------------------------------------------


async def test_detail_page_shows_everything_and_lists_with_remove(db, staff):
    contact = await add(
        db,
        email="d@example.com",
        first_name="Dee",
        job_title="CTO",
        location="Oslo",
        tags=["vip"],
        custom_fields={"plan": "pro"},
    )
    on = await lists.create_list(db, {"name": "Customers"}, "test")
    await lists.create_list(db, {"name": "Prospects"}, "test")
    await lists.add_members(db, on.id, [contact.id])
    await db.commit()
    editor = await staff("editor")
    page = editor.get(f"/contacts/{contact.id}")
    html = page.text
    for part in [
        "d@example.com",
        "CTO",
        "Oslo",
        "<dt>plan</dt><dd>pro</dd>",
        "vip",
        "Customers",
        "Email history",
        f'action="/contacts/{contact.id}/lists/{on.id}/remove"',
        "Prospects",
    ]:
        assert part in html, part
    removed = editor.post(f"/contacts/{contact.id}/lists/{on.id}/remove")
    assert removed.status_code == 303
    assert await db.scalar(select(ListMember.contact_id)) is None
    assert "Removed d@example.com from Customers." in flash_text(editor, f"/contacts/{contact.id}")


async def test_delete_one_contact_with_confirmation(db, staff):
    contact = await add(db, email="bye@example.com")
    editor = await staff("editor")
    ask = editor.post(f"/contacts/{contact.id}/delete")
    assert ask.status_code == 200 and "Delete bye@example.com?" in ask.text
    assert await db.scalar(select(Contact.id)) == contact.id
    done = editor.post(f"/contacts/{contact.id}/delete", data={"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/contacts"
    assert await db.scalar(select(Contact.id)) is None
    assert "Deleted bye@example.com." in flash_text(editor)


async def test_unknown_contacts_are_404(db, staff):
    client = await staff("editor")
    for url in ["/contacts/999", "/contacts/999/edit", "/contacts/99999999999999999999"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "does not exist" in response.text or "Not found" in response.text
    assert client.post("/contacts/999/delete", data={"confirm": "yes"}).status_code == 404
    assert client.get("/contacts/abc").status_code in {400, 404}


# ---- viewers ----------------------------------------------------------------------------------


async def test_viewer_sees_no_edit_controls_and_cannot_post(db, staff):
    contact = await add(db, email="v@example.com")
    email_list = await lists.create_list(db, {"name": "L"}, "test")
    await lists.add_members(db, email_list.id, [contact.id])
    await db.commit()
    viewer = await staff("viewer")
    table = viewer.get("/contacts").text
    detail = viewer.get(f"/contacts/{contact.id}").text
    assert "v@example.com" in table
    for html in (table, detail):
        assert 'name="ids"' not in html and "bulkbar" not in html and "/contacts/new" not in html
        assert "/edit" not in html and "/delete" not in html and "/remove" not in html
    for url in ["/contacts/new", f"/contacts/{contact.id}/edit", "/contacts/field-row"]:
        assert viewer.get(url).status_code == 403, url
    routes = [
        "/contacts",
        "/contacts/bulk",
        "/contacts/validate-email",
        f"/contacts/{contact.id}/edit",
        f"/contacts/{contact.id}/delete",
        f"/contacts/{contact.id}/lists/{email_list.id}/remove",
    ]
    for url in routes:
        response = viewer.post(
            url, data={"email": "x@example.com", "ids": contact.id, "action": "delete", "confirm": "yes"}
        )
        assert response.status_code == 403 and "Your role (viewer)" in response.text, url
    assert await db.scalar(select(Contact.email)) == "v@example.com"
