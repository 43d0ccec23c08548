"""The segment builder against the real server: rows added, nested and removed through the builder
endpoint (HTMX partial and plain page), the form read back from the HTML it rendered, live counts
and previews equal to the service's, errors on their rows, saving, editing, and viewers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, text

from tests.support.campaigns import audience, ready_campaign
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList
from webapp.lists.schemas.rule_form import encode_rules, focus_after, parse_form
from webapp.lists.service import lists
from webapp.lists.service.segments import count_rules, preview_rules
from webapp.tracking.service import hits

HX = {"HX-Request": "true"}
FIELD = re.compile(r"^([cg]-[\d.]+-\w+|name|description|list_type|parent_list_id|list_id)$")


class FormFields(HTMLParser):
    """The fields a browser would submit from the HTML (enabled ones, checked boxes, chosen options)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.disabled: set[str] = set()
        self.select: dict[str, Any] | None = None
        self.textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if tag in ("input", "select", "textarea") and "disabled" in a:
            self.disabled.add(name)
            return
        if tag == "input" and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select":
            self.select = {"name": name, "options": [], "multiple": "multiple" in a}
        elif tag == "option" and self.select is not None:
            self.select["options"].append((a.get("value") or "", "selected" in a))
        elif tag == "textarea":
            self.textarea = {"name": name, "text": ""}

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select is not None:
            chosen = [v for v, selected in self.select["options"] if selected]
            if not chosen and self.select["options"] and not self.select["multiple"]:
                chosen = [self.select["options"][0][0]]
            self.fields += [(self.select["name"], v) for v in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea["name"], self.textarea["text"]))
            self.textarea = None


def form_of(html: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(html)
    return [(k, v) for k, v in parser.fields if FIELD.match(k)]


def rules_in(html: str) -> dict[str, Any]:
    """The rules the rendered builder would post, read back through the one parser."""
    data: dict[str, Any] = {}
    for name, value in form_of(html):
        if value == "":
            continue
        data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value] if name in data else value
    return parse_form(data)


def shown_count(html: str) -> int | None:
    found = re.search(r'<strong class="segment-number">([\d,]+)</strong>', html)
    return int(found[1].replace(",", "")) if found else None


def preview_emails(html: str) -> list[str]:
    table = re.search(r'<table class="segment-preview">(.*?)</table>', html, re.S)
    return re.findall(r'<a href="/contacts/\d+">([^<]+)</a>', table[1]) if table else []


def row_error(html: str, path: str) -> str:
    return re.search(rf'<p class="field-error seg-error" id="c-{re.escape(path)}-error"[^>]*>([^<]*)</p>', html)[1]


def post_form(client, url: str, fields: list[tuple[str, str]], headers: dict | None = None):
    """A urlencoded body with repeated names, as a browser sends checkboxes."""
    return client.post(
        url, content=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    )


def post_rules(client, url: str, rules: dict, extra: dict | None = None, headers: dict | None = None):
    return post_form(client, url, [*encode_rules(rules), *(extra or {}).items()], headers)


async def people(db) -> None:
    """Seven contacts to segment."""
    await db.execute(
        text("""
        INSERT INTO contacts (email, first_name, company, tags, status, emails_opened, custom_fields, date_added) VALUES
        ('ada@example.com', 'Ada', 'Acme', '{vip}', 'active', 5, '{"plan": "pro"}', now() - interval '1 day'),
        ('bob@example.com', 'Bob', 'Acme', '{vip,press}', 'unsubscribed', 0, '{}', now() - interval '2 days'),
        ('cy@example.com', 'Cy', 'Beta', '{}', 'active', 2, '{"plan": "free"}', now() - interval '3 days'),
        ('dee@example.com', 'Dee', 'Corp', '{gold}', 'active', 9, '{"seats": "12"}', now() - interval '4 days'),
        ('eve@example.com', 'Eve', 'Beta', '{gold,vip}', 'bounced', 1, '{}', now() - interval '5 days'),
        ('fay@example.com', 'Fay', '', '{}', 'active', 0, '{}', now() - interval '400 days'),
        ('gus@example.com', 'Gus', 'Gamma', '{press}', 'pending', 3, '{}', now() - interval '6 days')""")
    )
    await db.commit()


# vip AND (company Acme OR opened at least 3)
NESTED = {
    "operator": "AND",
    "conditions": [
        {"field": "tags", "op": "has_any", "value": ["vip", "gold"]},
        {
            "operator": "OR",
            "conditions": [
                {"field": "company", "op": "eq", "value": "acme"},
                {"field": "emails_opened", "op": "gte", "value": 3},
            ],
        },
    ],
}


async def test_lists_page_offers_a_new_segment_and_the_builder_starts_empty(staff, db):
    await people(db)
    editor = await staff("editor")
    assert 'href="/lists/segments/new"' in editor.get("/lists").text  # empty state
    await lists.create_list(db, {"name": "Newsletter"}, created_by="t")
    await db.commit()
    index = editor.get("/lists").text
    assert '<a class="button" href="/lists/segments/new">New segment</a>' in index

    page = editor.get("/lists/segments/new")
    assert page.status_code == 200
    assert '<div id="segment-rules"' in page.text and 'name="g-0-operator"' in page.text
    assert 'value="add-condition:0" formaction="/lists/segments/builder"' in page.text  # works without JS too
    assert 'hx-post="/lists/segments/count"' in page.text
    assert "No conditions yet: every contact matches." in page.text
    assert shown_count(page.text) == 7
    assert preview_emails(page.text)[:2] == ["ada@example.com", "bob@example.com"]  # newest first
    assert '<option value="' in page.text and ">Newsletter (0)</option>" in page.text  # parent list choice
    assert rules_in(page.text) == {"operator": "AND", "conditions": []}

    viewer = await staff("viewer")
    assert viewer.get("/lists/segments/new").status_code == 403
    assert 'href="/lists/segments/new"' not in viewer.get("/lists").text


async def test_add_nest_and_remove_rows_round_trip_through_the_rendered_form(staff, db):
    await people(db)
    editor = await staff("editor")
    html = editor.get("/lists/segments/new").text

    def step(action: str, change: dict[str, str] | None = None) -> str:
        """Post what the browser would after the user typed `change` and clicked the `action` button."""
        change = change or {}
        fields = [(k, v) for k, v in form_of(html) if k not in change] + list(change.items())
        response = post_form(editor, "/lists/segments/builder", [*fields, ("action", action)], HX)
        assert response.status_code == 200, response.text
        assert response.text.lstrip().startswith('<div id="segment-rules"')  # the partial, not the page
        assert '<div id="segment-count" hx-swap-oob="innerHTML">' in response.text  # the live region's contents
        return response.text

    html = step("add-condition:0")
    assert rules_in(html) == {"operator": "AND", "conditions": [{"field": "email", "op": "eq", "value": ""}]}
    assert row_error(html, "0.0") == ""  # a row just added is not wrong yet: saving it blank would be
    assert shown_count(html) is None and "Fill in each condition&#39;s value" in html
    assert '<p class="hint segment-pending">Fill in' in html  # a hint, not styled as a mistake

    html = step("refresh", {"c-0.0-field": "tags"})  # picking a field re-renders its row
    assert rules_in(html)["conditions"] == [{"field": "tags", "op": "has_any", "value": []}]
    html = step("add-group:0", {"c-0.0-value": "vip, gold"})
    assert rules_in(html) == {
        "operator": "AND",
        "conditions": [
            {"field": "tags", "op": "has_any", "value": ["vip", "gold"]},
            {"operator": "OR", "conditions": [{"field": "email", "op": "eq", "value": ""}]},
        ],
    }
    assert "data-chips" in html and 'value="vip, gold"' in html

    html = step("add-condition:0.1", {"c-0.1.0-field": "company", "c-0.1.0-op": "eq", "c-0.1.0-value": "acme"})
    html = step("refresh", {"c-0.1.1-field": "emails_opened"})  # a new field: its operators and a number box
    assert 'type="number" step="any" name="c-0.1.1-value"' in html
    html = step("add-group:0.1", {"c-0.1.1-op": "gte", "c-0.1.1-value": "3"})
    assert rules_in(html)["conditions"][1]["conditions"][2] == {
        "operator": "AND",
        "conditions": [{"field": "email", "op": "eq", "value": ""}],
    }
    html = step("remove:0.1.2")
    assert rules_in(html) == NESTED
    removes = re.findall(r'value="remove:([\d.]+)"[^>]*aria-label="([^"]*)"', html)
    assert removes == [  # each Remove button says which row it takes away, by its place and its field
        ("0.0", "Remove condition 1 (Tags)"),
        ("0.1.0", "Remove condition 2.1 (Company)"),
        ("0.1.1", "Remove condition 2.2 (Emails opened)"),
        ("0.1", "Remove group 2"),  # after its rows, as on screen
    ]
    assert 'aria-label="+ Condition to group 2"' in html and 'aria-label="+ Group to the top group"' in html
    assert shown_count(html) == await count_rules(db, NESTED, None) == 3  # ada and bob (Acme), dee (opened 9)

    html = step("remove:0.0")
    assert rules_in(html) == {"operator": "AND", "conditions": [NESTED["conditions"][1]]}


async def test_without_javascript_the_same_buttons_render_the_whole_page(staff, db):
    await people(db)
    editor = await staff("editor")
    response = post_rules(
        editor,
        "/lists/segments/builder",
        NESTED,
        {"action": "add-condition:0.1", "name": "Kept <name>", "description": "kept too"},
    )
    assert response.status_code == 200
    assert "<html" in response.text and '<form id="segment-form"' in response.text
    assert 'value="Kept &lt;name&gt;"' in response.text and ">kept too</textarea>" in response.text
    assert rules_in(response.text)["conditions"][1]["conditions"][2] == {"field": "email", "op": "eq", "value": ""}
    assert row_error(response.text, "0.1.2") == ""  # just added: not marked until it is saved blank
    assert "Nothing was saved" not in response.text  # nothing was meant to be


async def test_count_and_preview_equal_the_service(staff, db):
    await people(db)
    base = await audience(db, 3, name="Base")  # person0-2, newer than everyone above
    await db.execute(text("UPDATE contacts SET tags = '{vip}' WHERE email = 'person1@example.com'"))
    await db.commit()
    editor = await staff("editor")

    response = post_rules(editor, "/lists/segments/count", NESTED, headers=HX)
    assert response.status_code == 200
    expected = await count_rules(db, NESTED, None)
    assert shown_count(response.text) == expected == 3
    assert preview_emails(response.text) == [c.email for c in await preview_rules(db, NESTED, None)]
    assert preview_emails(response.text) == ["ada@example.com", "bob@example.com", "dee@example.com"]
    ada = await db.scalar(select(Contact.id).where(Contact.email == "ada@example.com"))
    assert f'<a href="/contacts/{ada}">ada@example.com</a>' in response.text
    assert '<p class="field-error seg-error" id="c-0.1.1-error" hx-swap-oob="true"></p>' in response.text

    anyone_vip = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}
    segmented = post_rules(
        editor, "/lists/segments/count", anyone_vip, {"list_type": "segmented", "parent_list_id": str(base.id)}, HX
    )
    assert shown_count(segmented.text) == await count_rules(db, anyone_vip, base.id) == 1
    assert preview_emails(segmented.text) == ["person1@example.com"]
    no_parent = post_rules(editor, "/lists/segments/count", anyone_vip, {"list_type": "segmented"}, HX)
    assert shown_count(no_parent.text) is None and "Choose the list this segment is a subset of." in no_parent.text


async def test_invalid_rules_show_the_message_on_their_row_instead_of_a_count(staff, db):
    await people(db)
    editor = await staff("editor")
    broken = {
        "operator": "AND",
        "conditions": [
            {"field": "tags", "op": "has_any", "value": ["vip"]},
            {
                "operator": "OR",
                "conditions": [
                    {"field": "emails_opened", "op": "gt", "value": "lots"},
                    {"field": "custom.", "op": "eq", "value": "x"},
                    {"field": "last_opened", "op": "gt", "value": "+99999y"},
                ],
            },
        ],
    }
    for url in ("/lists/segments/count", "/lists/segments/builder"):
        response = post_rules(editor, url, broken, headers=HX)
        assert response.status_code == 200, response.text
        assert shown_count(response.text) is None
        assert "Fix the marked conditions to see how many contacts match." in response.text
        assert row_error(response.text, "0.0") == ""
        assert row_error(response.text, "0.1.0") == "Enter a number."
        assert row_error(response.text, "0.1.1") == "Enter the custom field&#39;s name."
        assert row_error(response.text, "0.1.2") == "Use a relative time of at most 1000 years."
    assert 'value="lots"' in response.text  # what was typed stays in the box


async def test_changing_the_field_renders_its_operators_and_value_input(staff, db):
    await people(db)
    newsletter = await lists.create_list(db, {"name": "Newsletter <weekly>"}, created_by="t")
    campaign = await ready_campaign(db, [newsletter.id], name="Spring sale")
    draft = await ready_campaign(db, [newsletter.id], name="Unsent draft")
    await db.execute(text("UPDATE campaigns SET status = 'sent' WHERE id = :c"), {"c": campaign.id})
    await db.commit()
    editor = await staff("editor")

    def row(field: str, op: str = "contains", typed: str = "x", **extra: str) -> str:
        data = {"c-0.0-field": field, "c-0.0-op": op, "c-0.0-input": "text", "c-0.0-value": typed, **extra}
        response = editor.post("/lists/segments/builder", headers=HX, data=data)
        assert response.status_code == 200, response.text
        return response.text

    status = row("status")
    assert re.findall(r'name="c-0.0-op"[^>]*>(.*?)</select>', status, re.S)[0].count("<option") == 4
    assert '<select name="c-0.0-value" id="c-0.0-value" aria-label="Status"' in status
    assert 'name="c-0.0-input" value="choice"' in status
    several = row("status", "in", "")
    assert several.count('type="checkbox" name="c-0.0-value"') == 5
    member = row("list", "in")
    assert "Newsletter &lt;weekly&gt;</label>" in member and f'value="{newsletter.id}"' in member
    opened = row("engagement", "opened")
    assert f'<option value="{campaign.id}" >Spring sale</option>' in opened and "Unsent draft" not in opened
    assert f'value="{draft.id}"' not in opened
    recent = row("engagement", "opened_within", "30", **{"c-0.0-input": "days"})
    assert 'name="c-0.0-value" id="c-0.0-value" value="30" aria-label="Number of days"' in recent
    custom = row("custom", **{"c-0.0-key": "plan"})
    assert 'name="c-0.0-key" id="c-0.0-key" value="plan" list="custom-field-keys"' in custom
    assert re.search(
        r'<datalist id="custom-field-keys">\s*<option value="plan"></option><option value="seats">', custom
    )
    date = row("last_opened", "gt", "-90d")
    assert 'placeholder="2026-01-31 or -90d"' in date and "before</option>" in date
    assert 'value="-90d"' not in date  # the text box's value was for another kind of input
    kept = row("last_opened", "gt", "-90d", **{"c-0.0-input": "date"})
    assert 'value="-90d"' in kept
    assert "Enter a date" not in kept


async def test_opened_campaign_counts_a_delivery_that_was_opened(staff, db):
    """The open moves the delivery from 'sent' to 'opened'; it is still a delivery that was received."""
    first = await audience(db, 3, name="First")
    campaign = await ready_campaign(db, [first.id])
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                             SELECT :c, id, email, 'sent', now() FROM contacts"""),
        {"c": campaign.id},
    )
    opened = await db.scalar(text("SELECT d.id FROM deliveries d WHERE d.email = 'person1@example.com'"))
    await hits.apply(db, [hits.new_hit("open", opened, None, "")])
    await db.commit()
    editor = await staff("editor")
    for op, emails in (
        ("opened", ["person1@example.com"]),
        ("not_opened", ["person2@example.com", "person0@example.com"]),
    ):
        rules = {"operator": "AND", "conditions": [{"field": "engagement", "op": op, "value": campaign.id}]}
        response = post_rules(editor, "/lists/segments/count", rules, headers=HX)
        assert sorted(preview_emails(response.text)) == sorted(emails), op


async def test_save_creates_the_segment_and_its_page_tells_the_rules(staff, db):
    await people(db)
    base = await audience(db, 2, name="Base")
    await db.commit()
    editor = await staff("editor")
    response = post_rules(editor, "/lists/segments", NESTED, {"name": "Engaged VIPs", "description": "Our best"})
    assert response.status_code == 303, response.text
    list_id = int(response.headers["location"].rsplit("/", 1)[1])
    saved = await db.get(EmailList, list_id)
    assert (saved.name, saved.list_type, saved.rules, saved.contact_count) == ("Engaged VIPs", "dynamic", NESTED, 3)

    detail = editor.get(f"/lists/{list_id}").text
    assert "Segment &#39;Engaged VIPs&#39; created: 3 contacts match now." in detail
    assert ("Tags has any of vip, gold and (Company is “acme” or Emails opened at least 3)") in detail
    assert f'<a class="button primary" href="/lists/{list_id}/segment">Edit rules</a>' in detail
    assert "<h2>Contacts matching now</h2>" in detail and "3 contacts match now" in detail

    subset = post_rules(
        editor,
        "/lists/segments",
        {"operator": "AND", "conditions": []},
        {"name": "All of base", "list_type": "segmented", "parent_list_id": str(base.id)},
    )
    assert subset.status_code == 303
    segment = await db.scalar(select(EmailList).where(EmailList.name == "All of base"))
    assert (segment.list_type, segment.parent_list_id, segment.contact_count) == ("segmented", base.id, 2)
    assert "Members of “Base” who match: <strong>all contacts</strong>" in editor.get(f"/lists/{segment.id}").text

    # A dynamic list saved before any condition was added would be every contact: refused, kept as typed.
    everyone = post_rules(
        editor,
        "/lists/segments",
        {"operator": "OR", "conditions": [{"operator": "AND", "conditions": []}]},
        {"name": "Oops"},
    )
    assert everyone.status_code == 422 and "Add at least one condition" in everyone.text
    assert 'value="Oops"' in everyone.text
    # A condition left without a value is marked when saving, though not while it is being filled in.
    blank = {"operator": "AND", "conditions": [{"field": "company", "op": "eq", "value": ""}]}
    unfinished = post_rules(editor, "/lists/segments", blank, {"name": "Oops"})
    assert unfinished.status_code == 422 and row_error(unfinished.text, "0.0") == "Enter a value."
    assert 'aria-describedby="c-0.0-error" aria-invalid="true"' in unfinished.text  # said with the value box
    assert await db.scalar(select(EmailList.id).where(EmailList.name == "Oops")) is None
    emptied = post_rules(
        editor, f"/lists/{list_id}/segment", {"operator": "AND", "conditions": []}, {"name": "Engaged VIPs"}
    )
    assert emptied.status_code == 422 and "Add at least one condition" in emptied.text
    db.expire_all()
    assert (await db.get(EmailList, list_id)).rules == NESTED


async def test_save_errors_sit_next_to_their_fields_and_rows_keeping_what_was_typed(staff, db):
    await people(db)
    await lists.create_list(db, {"name": "Taken"}, created_by="t")
    await db.commit()
    editor = await staff("editor")
    broken = {
        "operator": "OR",
        "conditions": [
            {"field": "company", "op": "contains", "value": "Ac"},
            {"operator": "AND", "conditions": [{"field": "emails_opened", "op": "gt", "value": "lots"}]},
        ],
    }
    response = post_rules(
        editor, "/lists/segments", broken, {"name": "", "description": "Keep <me>", "list_type": "segmented"}
    )
    assert response.status_code == 422
    assert '<p class="field-error" id="name-error">Enter a name for the list.</p>' in response.text
    assert row_error(response.text, "0.1.0") == "Enter a number."
    assert "Nothing was saved" in response.text
    assert "Keep &lt;me&gt;</textarea>" in response.text
    assert 'id="list_type-segmented" checked' in response.text
    assert rules_in(response.text) == broken
    assert await db.scalar(select(EmailList.id).where(EmailList.name == "")) is None

    orphan = post_rules(editor, "/lists/segments", NESTED, {"name": "Orphan", "list_type": "segmented"})
    assert orphan.status_code == 422
    parent_field = orphan.text.split('<div class="field invalid" id="parent_list_id-field">')[1].split("</div>")[0]
    assert (
        '<p class="field-error" id="parent_list_id-error">Choose the list this segment is a subset of.</p>'
        in parent_field
    )
    assert rules_in(orphan.text) == NESTED

    taken = post_rules(editor, "/lists/segments", NESTED, {"name": "taken"})
    assert taken.status_code == 422 and "A list named &#39;taken&#39; already exists" in taken.text
    assert rules_in(taken.text) == NESTED


async def test_edit_rules_of_a_segment_but_not_of_a_static_list(staff, db):
    await people(db)
    segment = await lists.create_list(db, {"name": "VIP", "list_type": "dynamic", "rules": NESTED}, created_by="t")
    static = await lists.create_list(db, {"name": "Plain"}, created_by="t")
    await db.commit()
    editor = await staff("editor")
    page = editor.get(f"/lists/{segment.id}/segment")
    assert page.status_code == 200 and "disabled" not in page.text.split('<form id="segment-form"')[1]
    assert rules_in(page.text) == NESTED and shown_count(page.text) == 3
    assert f'<input type="hidden" name="list_id" value="{segment.id}">' in page.text

    narrower = {
        "operator": "AND",
        "conditions": [*NESTED["conditions"], {"field": "status", "op": "eq", "value": "active"}],
    }
    saved = post_rules(
        editor,
        f"/lists/{segment.id}/segment",
        narrower,
        {"name": "VIP active", "list_type": "static", "list_id": str(segment.id)},
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/lists/{segment.id}"
    await db.refresh(segment)
    assert (segment.name, segment.list_type, segment.rules, segment.contact_count) == (
        "VIP active",
        "dynamic",
        narrower,
        2,
    )

    bad = post_rules(
        editor,
        f"/lists/{segment.id}/segment",
        {"operator": "AND", "conditions": [{"field": "list", "op": "in", "value": [segment.id]}]},
        {"name": "VIP active"},
    )
    assert bad.status_code == 422 and row_error(bad.text, "0.0") == f"Not a static list: {segment.id}."
    await db.refresh(segment)
    assert segment.rules == narrower

    not_a_segment = editor.get(f"/lists/{static.id}/segment")
    assert not_a_segment.status_code == 404 and "is static: it has members, not rules." in not_a_segment.text
    assert post_rules(editor, f"/lists/{static.id}/segment", NESTED, {"name": "Plain"}).status_code == 409


async def test_viewers_see_the_rules_read_only_and_cannot_post(staff, db):
    await people(db)
    segment = await lists.create_list(db, {"name": "VIP", "list_type": "dynamic", "rules": NESTED}, created_by="t")
    await db.commit()
    viewer = await staff("viewer")
    page = viewer.get(f"/lists/{segment.id}/segment")
    assert page.status_code == 200
    form = page.text.split('<form id="segment-form"')[1]
    parser = FormFields()
    parser.feed(form)
    assert {"name", "g-0-operator", "c-0.1.0-field", "c-0.1.1-value"} <= parser.disabled
    assert not [name for name, _ in parser.fields if name.startswith(("c-", "g-"))]  # every row input is disabled
    assert "Save segment" not in form and "+ Condition" not in form and "hx-post" not in form
    assert shown_count(page.text) == 3
    assert '<span class="chip">gold</span><span class="chip">vip</span>' in form
    assert "See the rules" in viewer.get(f"/lists/{segment.id}").text

    for url in ("/lists/segments", f"/lists/{segment.id}/segment", "/lists/segments/builder", "/lists/segments/count"):
        assert post_rules(viewer, url, NESTED, {"name": "Hijack"}, HX).status_code == 403, url
    await db.refresh(segment)
    assert segment.name == "VIP"


async def test_the_campaign_audience_step_labels_segments_with_their_last_count(staff, db):
    await people(db)
    base = await audience(db, 2, name="Base")
    segment = await lists.create_list(db, {"name": "VIP", "list_type": "dynamic", "rules": NESTED}, created_by="t")
    campaign = await ready_campaign(db, [base.id])
    await db.commit()
    page = (await staff("editor")).get(f"/campaigns/{campaign.id}/audience").text
    choice = page.split(f'value="{segment.id}"')[1].split("</label>")[0]
    assert '<span class="badge type-dynamic">dynamic</span>' in choice
    assert "≈ 3 when last counted (" in choice
    assert "2 contacts" in page.split(f'value="{base.id}"')[1].split("</label>")[0]


@pytest.mark.parametrize(
    "extra",
    [
        {"c-0.0-field": "x" * 5000, "c-0.0-op": "eq", "c-0.0-value": "y"},
        {"c-0.0-field": "email", "c-0.0-op": "eq", "c-0.0-value": "nul\x00byte"},
        {"c-0.0-field": "custom", "c-0.0-key": "plan'; DROP TABLE contacts; --", "c-0.0-op": "eq", "c-0.0-value": "x"},
        {"c-0.0-field": "list", "c-0.0-op": "in", "c-0.0-value": "99999999999999999999999"},
        {"c-0.0-field": "engagement", "c-0.0-op": "opened", "c-0.0-value": "-1"},
        {"c-0.0-field": "date_added", "c-0.0-op": "lte", "c-0.0-value": "9999-12-31"},
        {"c-0.0-field": "emails_sent", "c-0.0-op": "gt", "c-0.0-value": "1e999"},
        {"g-0-operator": "XOR", "c-0.0-field": "email", "c-0.0-op": "is_set"},
        {
            "g-0.0-operator": "AND",
            "g-0.0.0-operator": "AND",
            "g-0.0.0.0-operator": "AND",
            "g-0.0.0.0.0-operator": "AND",
            "g-0.0.0.0.0.0-operator": "OR",
            "c-0.0.0.0.0.0.0-field": "email",
            "c-0.0.0.0.0.0.0-op": "is_set",
        },
        {"list_type": "segmented", "parent_list_id": "99999999999999999999999"},
        {"list_type": "weird", "parent_list_id": "abc"},
        {"action": "remove:" + "0." * 500},
    ],
)
async def test_odd_input_is_a_message_never_a_server_error(staff, db, extra):
    editor = await staff("editor")
    for url in ("/lists/segments/count", "/lists/segments/builder", "/lists/segments"):
        response = editor.post(url, data={"name": "Odd", **extra}, headers=HX)
        assert response.status_code in (200, 303, 422), (url, response.status_code, response.text[-500:])
        assert "Something went wrong" not in response.text
    many = {f"c-0.{i}-field": "email" for i in range(400)} | {"c-0.0-op": "eq"}
    assert editor.post("/lists/segments/count", data=many, headers=HX).status_code == 200
    assert editor.post("/lists/segments/builder", data={"list_id": "99999"}, headers=HX).status_code == 404


CONDITION = {"field": "email", "op": "eq", "value": "a@example.com"}
GROUP = {"operator": "OR", "conditions": [CONDITION]}


def rules(*rows: dict) -> dict:
    return {"operator": "AND", "conditions": list(rows)}


@pytest.mark.parametrize(
    ("action", "after", "focus"),
    [
        ("add-condition:0", rules(CONDITION, GROUP, CONDITION), "c-0.2-field"),  # the new row
        ("add-group:0", rules(CONDITION, GROUP), "g-0.1-operator"),
        ("add-condition:0.1", rules(CONDITION, GROUP), "c-0.1.0-field"),
        ("remove:0.0", rules(GROUP, CONDITION), "g-0.0-operator"),  # the row that moved into its place
        ("remove:0.2", rules(CONDITION, GROUP), "g-0.1-operator"),  # the last row went: the one before
        ("remove:0.1.0", rules(CONDITION, rules()), "g-0.1-add"),  # none left: the group's "+ Condition"
        ("refresh", rules(CONDITION), ""),  # nothing moved: focus stays where it was
        ("add-condition:0.0", rules(CONDITION), ""),  # a condition has no rows: a form we did not make
        ("add-condition:05", rules(CONDITION), ""),
        ("remove:0", rules(CONDITION), ""),
        ("remove:0.x", rules(CONDITION), ""),
    ],
)
def test_focus_after_a_builder_button_names_a_control_the_builder_draws(action, after, focus):
    """`after` is the rules as the button left them."""
    assert focus_after(action, after) == focus


async def test_an_archived_list_is_no_parent_for_a_new_segment_but_stays_one_for_its_own(staff, db):
    await people(db)
    base = await audience(db, 2, name="Base")
    await db.commit()
    editor = await staff("editor")
    subset = {"name": "Of base", "list_type": "segmented", "parent_list_id": str(base.id)}
    segment_id = int(post_rules(editor, "/lists/segments", NESTED, subset).headers["location"].rsplit("/", 1)[1])
    await lists.update_list(db, base.id, {"is_active": False})
    await db.commit()

    assert f'<option value="{base.id}"' not in editor.get("/lists/segments/new").text
    refused = post_rules(editor, "/lists/segments", NESTED, {**subset, "name": "Another"})
    assert refused.status_code == 422 and "is archived: restore it to make segments of it" in refused.text
    own = editor.get(f"/lists/{segment_id}/segment").text
    assert re.search(rf'<option value="{base.id}"[^>]*selected', own), "its own parent stays chosen"
    assert post_rules(editor, f"/lists/{segment_id}/segment", NESTED, subset).status_code == 303
