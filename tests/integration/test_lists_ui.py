"""The lists pages against the real server: create, validate, edit, archive, delete, and members
added by pasting addresses and removed by ticking them."""

from __future__ import annotations

import base64
import html
import json
import re

from sqlalchemy import func, select

from tests.integration.test_segment_builder import post_rules
from tests.support.automations import published
from tests.support.campaigns import ready_campaign
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList, ListMember
from webapp.lists.service import lists
from webapp.suppression.service import suppression


async def make_list(db, name: str = "Newsletter", **extra) -> EmailList:
    email_list = await lists.create_list(db, {"name": name, **extra}, created_by="Seeder")
    await db.commit()
    return email_list


async def list_row(db, list_id: int):
    return (
        await db.execute(
            select(
                EmailList.name,
                EmailList.description,
                EmailList.tags,
                EmailList.is_active,
                EmailList.created_by,
                EmailList.contact_count,
            ).where(EmailList.id == list_id)
        )
    ).one_or_none()


async def member_emails(db, list_id: int) -> set[str]:
    rows = await db.scalars(
        select(Contact.email).join(ListMember, ListMember.contact_id == Contact.id).where(ListMember.list_id == list_id)
    )
    return set(rows)


def ticked_ids(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'name="ids" value="(\d+)"', html)]


async def test_empty_state_says_what_to_do(staff):
    client = await staff("editor")
    page = client.get("/lists")
    assert page.status_code == 200
    assert "No lists yet" in page.text
    assert 'href="/lists/new"' in page.text


async def test_create_a_list(staff, db):
    client = await staff("editor")
    form = client.get("/lists/new").text
    assert '<input id="tags" name="tags" type="text" value="" data-chips' in form
    assert '<option value="static" selected>' in form
    assert '<option value="dynamic" disabled>' in form and '<option value="segmented" disabled>' in form

    response = client.post(
        "/lists",
        data={
            "name": "  Customers 2025 ",
            "description": "Paying customers",
            "tags": "VIP, weekly,vip",
            "list_type": "static",
        },
    )
    assert response.status_code == 303
    list_id = int(response.headers["location"].rsplit("/", 1)[1])
    row = await list_row(db, list_id)
    assert row.name == "Customers 2025"
    assert row.tags == ["vip", "weekly"]
    assert row.created_by == "Editor"  # the signed-in user's name
    assert row.is_active and row.contact_count == 0

    index = client.get("/lists").text
    assert f'<a href="/lists/{list_id}">Customers 2025</a>' in index
    assert '<span class="chip">vip</span><span class="chip">weekly</span>' in index
    assert "static" in index and "Editor" in index and '<span class="badge active">active</span>' in index


async def test_form_errors_are_shown_next_to_fields_and_keep_what_was_typed(staff, db):
    client = await staff("editor")
    response = client.post("/lists", data={"description": "Keep <this> text", "tags": "a, b"})
    assert response.status_code == 422
    assert 'class="field invalid"' in response.text
    assert "Enter a name for the list." in response.text
    assert "Keep &lt;this&gt; text" in response.text  # kept, and escaped
    assert 'value="a, b"' in response.text

    too_long = client.post("/lists", data={"name": "x" * 201})
    assert too_long.status_code == 422 and "Name must be at most 200 characters." in too_long.text

    for list_type in ("segmented", "dynamic"):  # the form offers neither: the message says where they are made
        refused = client.post("/lists", data={"name": "Smart", "list_type": list_type})
        assert refused.status_code == 422 and 'id="list_type-error"' in refused.text
        assert "Dynamic and segmented lists are made with New segment" in refused.text

    weird = client.post("/lists", data={"name": ["one", "two"], "list_type": ["static", "x"]})
    assert weird.status_code == 422
    assert await db.scalar(select(func.count()).select_from(EmailList)) == 0


async def test_duplicate_name_gets_a_clear_message(staff, db):
    existing = await make_list(db, "Newsletter")
    client = await staff("editor")
    response = client.post("/lists", data={"name": "NEWSLETTER", "description": "second"})
    assert response.status_code == 422
    assert f"A list named &#39;NEWSLETTER&#39; already exists (list #{existing.id})." in response.text
    assert 'value="NEWSLETTER"' in response.text


async def test_edit_a_list(staff, db):
    email_list = await make_list(db, "Newsletter", description="Old text", tags=["a"])
    await make_list(db, "Taken")
    client = await staff("editor")
    form = client.get(f"/lists/{email_list.id}/edit").text
    assert 'value="Newsletter"' in form and "Old text" in form and 'value="a"' in form

    # An emptied field is not sent by browsers at all: it still means "clear it".
    response = client.post(f"/lists/{email_list.id}/edit", data={"name": "Weekly news", "tags": "news"})
    assert response.status_code == 303
    row = await list_row(db, email_list.id)
    assert (row.name, row.description, row.tags) == ("Weekly news", "", ["news"])

    clash = client.post(f"/lists/{email_list.id}/edit", data={"name": "taken", "description": "typed"})
    assert clash.status_code == 422 and "already exists" in clash.text and "typed" in clash.text
    assert (await list_row(db, email_list.id)).name == "Weekly news"


async def test_archive_and_restore(staff, db):
    email_list = await make_list(db)
    client = await staff("editor")
    active = client.get(f"/lists/{email_list.id}").text
    assert ">Archive</button>" in active and 'name="addresses"' in active and "/contacts/import?list_id=" in active

    assert client.post(f"/lists/{email_list.id}/archive").status_code == 303
    assert (await list_row(db, email_list.id)).is_active is False
    page = client.get(f"/lists/{email_list.id}").text
    assert ">Restore</button>" in page and "List archived." in page
    assert 'id="archived-hint"' in page and "/contacts/import?list_id=" not in page and 'name="addresses"' not in page
    assert '<span class="badge archived">archived</span>' in client.get("/lists").text

    client.post(f"/lists/{email_list.id}/archive")
    assert (await list_row(db, email_list.id)).is_active is True


async def test_archiving_a_list_in_use_says_what_goes_on_using_it(staff, db):
    email_list = await make_list(db)
    await ready_campaign(db, [email_list.id], name="Spring sale")
    for name in ("Welcome", "Adds to it"):
        await published(db, [{"type": "add_to_list", "list_id": email_list.id}], name=name)
    await db.commit()
    client = await staff("editor")

    client.post(f"/lists/{email_list.id}/archive")
    page = html.unescape(client.get(f"/lists/{email_list.id}").text)
    assert (
        "List archived and hidden from pickers, but the campaign 'Spring sale' and 2 automations still use it." in page
    )
    assert "flash-warning" in page

    client.post(f"/lists/{email_list.id}/archive")
    assert "List restored." in client.get(f"/lists/{email_list.id}").text
    segment = await lists.create_list(
        db,
        {
            "name": "VIPs",
            "list_type": "dynamic",
            "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]},
        },
        created_by="Seeder",
    )
    await ready_campaign(db, [segment.id], name="For VIPs")
    await db.commit()
    client.post(f"/lists/{segment.id}/archive")
    page = html.unescape(client.get(f"/lists/{segment.id}").text)
    assert "Segment archived and hidden from pickers, but the campaign 'For VIPs' still uses it." in page
    assert "This segment is in use." in client.get(f"/lists/{segment.id}/delete").text


async def test_deleting_a_list_in_use_says_which_campaigns_and_automations_use_it(staff, db):
    email_list = await make_list(db)
    other = await make_list(db, "Other")
    draft = await ready_campaign(db, [email_list.id], name="Spring sale")
    sent = await ready_campaign(db, [email_list.id], name="Old news")
    sent.status = "sent"
    elsewhere = await ready_campaign(db, [other.id], name="Elsewhere")
    joined = await published(
        db, [{"type": "tag", "tags": ["x"]}], trigger={"kind": "list_joined", "list_id": email_list.id}
    )
    adds = await published(db, [{"type": "add_to_list", "list_id": email_list.id}], name="Adds to it")
    unrelated = await published(db, [{"type": "tag", "tags": ["y"]}], name="Unrelated")
    await db.commit()
    client = await staff("editor")

    detail = client.get(f"/lists/{email_list.id}").text
    assert f'hx-post="/lists/{email_list.id}/delete"' not in detail  # Delete opens the page that says why
    confirm = client.get(f"/lists/{email_list.id}/delete").text
    assert "This list is in use." in confirm
    for shown in (
        f'href="/campaigns/{draft.id}">Spring sale</a> (draft)',
        f'href="/automations/{joined}">',
        f'href="/automations/{adds}">Adds to it</a>',
    ):
        assert shown in confirm, shown
    for not_shown in (f"/campaigns/{sent.id}", f"/campaigns/{elsewhere.id}", f"/automations/{unrelated}"):
        assert not_shown not in confirm, not_shown

    free = client.get(f"/lists/{other.id}/delete")  # used only by a campaign: still said
    assert "in use" in free.text and f"/campaigns/{elsewhere.id}" in free.text
    unused = await make_list(db, "Unused")
    assert "in use" not in client.get(f"/lists/{unused.id}/delete").text
    assert f'hx-post="/lists/{unused.id}/delete"' in client.get(f"/lists/{unused.id}").text


async def test_a_list_segments_are_made_of_cannot_be_deleted_and_the_page_names_them(staff, db):
    parent = await make_list(db, "Customers")
    rules = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}
    segment = await lists.create_list(
        db,
        {"name": "VIP customers", "list_type": "segmented", "parent_list_id": parent.id, "rules": rules},
        created_by="Seeder",
    )
    await db.commit()
    client = await staff("editor")

    assert f'hx-post="/lists/{parent.id}/delete"' not in client.get(f"/lists/{parent.id}").text
    confirm = client.get(f"/lists/{parent.id}/delete").text
    assert f'<a href="/lists/{segment.id}">VIP customers</a>' in confirm and ">Delete list</button>" not in confirm
    refused = client.post(f"/lists/{parent.id}/delete")  # sent anyway, e.g. from a page left open
    assert refused.status_code == 303 and refused.headers["location"] == f"/lists/{parent.id}/delete"
    assert "Segments are made of this list: &#39;VIP customers&#39;." in client.get(f"/lists/{parent.id}/delete").text
    assert (await list_row(db, parent.id)) is not None


async def test_delete_asks_first_and_keeps_the_contacts(staff, db):
    email_list = await make_list(db)
    contact = await contacts.create_contact(db, {"email": "kept@example.com"})
    await lists.add_members(db, email_list.id, [contact.id])
    await db.commit()
    client = await staff("editor")

    detail = client.get(f"/lists/{email_list.id}").text
    assert f'hx-post="/lists/{email_list.id}/delete"' in detail and "hx-confirm=" in detail
    confirm = client.get(f"/lists/{email_list.id}/delete")  # the page browsers without JavaScript get
    assert confirm.status_code == 200 and "Delete the list <strong>Newsletter</strong>?" in confirm.text

    response = client.post(f"/lists/{email_list.id}/delete")
    assert response.status_code == 303 and response.headers["location"] == "/lists"
    assert await list_row(db, email_list.id) is None
    assert await db.scalar(select(Contact.email).where(Contact.id == contact.id)) == "kept@example.com"
    assert "List &#39;Newsletter&#39; deleted." in client.get("/lists").text


async def test_unknown_or_impossible_ids_are_404(staff):
    client = await staff("editor")
    for path in ["/lists/999", "/lists/999/edit", "/lists/999/delete", "/lists/99999999999999999999"]:
        assert client.get(path).status_code == 404, path
    for path in ["/lists/999/archive", "/lists/999/delete", "/lists/99999999999999999999/members"]:
        assert client.post(path, data={"addresses": "a@example.com"}).status_code == 404, path
    assert "List 999 does not exist." in client.get("/lists/999").text


async def test_add_contacts_by_pasting_addresses(staff, db):
    email_list = await make_list(db)
    existing = await contacts.create_contact(db, {"email": "Known@Example.com", "first_name": "Kim"})
    await db.commit()
    client = await staff("editor")

    pasted = (
        "known@example.com\nnew.one@example.com, new.two@example.com;NEW.ONE@example.com\n\n"
        "not-an-address\n  bad@@x.org , ok@example.org"
    )
    response = client.post(f"/lists/{email_list.id}/members", data={"addresses": pasted})
    assert response.status_code == 200  # some were added; the rejected ones are shown with the page
    assert "Added 4 contacts to the list, 3 of them new, 2 not added (see below)." in response.text
    report = response.text[response.text.index('class="paste-report"') :]
    assert re.search(r'<td class="num">4</td><td><code>not-an-address</code></td><td>[^<]*@', report)
    assert re.search(r'<td class="num">5</td><td><code>bad@@x.org</code></td>', report)
    # The rejected lines stay in the box to be corrected.
    assert ">not-an-address\nbad@@x.org</textarea>" in response.text
    # ... which takes the focus, marked invalid and described by what it says
    box = re.search(r'<textarea id="addresses"[^>]*>', response.text).group(0)
    assert "autofocus" in box and 'aria-invalid="true"' in box and "addresses-error" in box
    assert "2 not added: listed above, and left here to correct and add again." in response.text

    assert await member_emails(db, email_list.id) == {
        "Known@example.com",
        "new.one@example.com",
        "new.two@example.com",
        "ok@example.org",
    }
    assert (await list_row(db, email_list.id)).contact_count == 4
    # the known contact was reused, not duplicated
    assert await db.scalar(select(func.count()).select_from(Contact)) == 4
    assert await db.scalar(select(Contact.first_name).where(Contact.id == existing.id)) == "Kim"

    again = client.post(
        f"/lists/{email_list.id}/members", data={"addresses": "new.two@example.com, brand.new@example.com"}
    )
    assert again.status_code == 303
    page = client.get(f"/lists/{email_list.id}").text
    assert "Added 1 contact to the list, 1 of them new, 1 already on it." in page
    assert '<span class="stat-value">5</span>' in page
    assert (await list_row(db, email_list.id)).contact_count == 5


async def test_paste_with_nothing_usable_is_refused(staff, db):
    email_list = await make_list(db)
    client = await staff("editor")
    empty = client.post(f"/lists/{email_list.id}/members", data={"addresses": "  \n "})
    assert empty.status_code == 422 and "Paste at least one email address." in empty.text
    junk = client.post(f"/lists/{email_list.id}/members", data={"addresses": "nope\nstill nope"})
    assert junk.status_code == 422
    assert "<code>nope</code>" in junk.text and "<code>still nope</code>" in junk.text
    assert (await list_row(db, email_list.id)).contact_count == 0


async def test_remove_ticked_members(staff, db):
    email_list = await make_list(db)
    others = await make_list(db, "Other")
    people = [await contacts.create_contact(db, {"email": f"p{i}@example.com"}) for i in range(3)]
    ids = [p.id for p in people]
    await lists.add_members(db, email_list.id, ids)
    await lists.add_members(db, others.id, ids)
    await db.commit()
    client = await staff("editor")
    assert sorted(ticked_ids(client.get(f"/lists/{email_list.id}").text)) == ids

    response = client.post(
        f"/lists/{email_list.id}/members/remove",
        data={"ids": [str(ids[0]), str(ids[1]), "junk", "99999999999999999999999"]},
    )
    assert response.status_code == 303
    assert await member_emails(db, email_list.id) == {"p2@example.com"}
    assert (await list_row(db, email_list.id)).contact_count == 1
    assert (await list_row(db, others.id)).contact_count == 3  # other lists untouched
    assert "Removed 2 contacts from the list." in client.get(f"/lists/{email_list.id}").text

    nothing = client.post(f"/lists/{email_list.id}/members/remove", data={})
    assert nothing.status_code == 303
    assert "Tick the contacts to remove first." in client.get(f"/lists/{email_list.id}").text


async def test_members_are_paged_with_next_and_previous(staff, db):
    email_list = await make_list(db)
    client = await staff("editor")
    addresses = "\n".join(f"member{i:03}@example.com" for i in range(60))
    client.post(f"/lists/{email_list.id}/members", data={"addresses": addresses})

    first = client.get(f"/lists/{email_list.id}").text
    assert len(ticked_ids(first)) == 50
    assert "← Previous" not in first
    next_url = re.search(r'href="(/lists/\d+\?cursor=[^"]+)"[^>]*>Next', first).group(1)

    second = client.get(next_url.replace("&amp;", "&"), headers={"HX-Request": "true", "HX-Target": "list-members"})
    assert second.text.lstrip().startswith('<div id="list-members">')  # the partial only
    assert len(ticked_ids(second.text)) == 10
    assert not set(ticked_ids(second.text)) & set(ticked_ids(first))
    assert "← Previous" in second.text and "Next →" not in second.text

    # Whatever is typed as a cursor shows a page, never a server error.
    for raw in [
        ["after", {"0": "x", "1": 2}],
        ["after", ["2020-01-01T00:00:00", 10**30]],
        ["before", [None, None]],
        "x",
    ]:
        crafted = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
        assert client.get(f"/lists/{email_list.id}", params={"cursor": crafted}).status_code == 200, raw
    assert client.get(f"/lists/{email_list.id}?cursor=not-a-cursor").status_code == 200


async def test_htmx_posts_are_answered_with_hx_location(staff, db):
    email_list = await make_list(db)
    client = await staff("editor")
    response = client.post(f"/lists/{email_list.id}/archive", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert json.loads(response.headers["hx-location"])["path"] == f"/lists/{email_list.id}"


async def test_viewer_sees_no_edit_controls(staff, db):
    email_list = await make_list(db)
    contact = await contacts.create_contact(db, {"email": "someone@example.com"})
    await lists.add_members(db, email_list.id, [contact.id])
    await db.commit()
    client = await staff("viewer")
    index = client.get("/lists").text
    assert "/lists/new" not in index
    page = client.get(f"/lists/{email_list.id}").text
    assert "someone@example.com" in page
    for control in ["Add to list", 'name="ids"', "Archive", "/edit", "Remove from list", "/delete"]:
        assert control not in page, control


async def test_members_and_a_segments_preview_show_each_contacts_mail_state(staff, db):
    email_list = await lists.create_list(db, {"name": "Members"}, created_by="t")
    kept = await contacts.create_contact(db, {"email": "kept@example.com"})
    gone = await contacts.create_contact(db, {"email": "gone@example.com"})
    await suppression.add(db, "gone@example.com", "manual", source="staff")
    await lists.add_members(db, email_list.id, [kept.id, gone.id])
    await db.commit()
    editor = await staff("editor")

    def badge(html: str, contact_id: int) -> str:
        row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?/contacts/{contact_id}"(?:(?!</tr>).)*</tr>', html, re.S)[0]
        return re.search(r'<span class="badge ([a-z_]+)">([^<]+)</span>', row).groups()

    page = editor.get(f"/lists/{email_list.id}").text
    assert badge(page, gone.id) == ("suppressed", "Suppressed") and badge(page, kept.id) == ("active", "Receives mail")
    rules = {"operator": "AND", "conditions": [{"field": "email", "op": "contains", "value": "example"}]}
    preview = post_rules(editor, "/lists/segments/count", rules, headers={"HX-Request": "true"})
    assert badge(preview.text, gone.id) == ("suppressed", "Suppressed")
