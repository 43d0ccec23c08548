"""The template library: service rules (syntax errors with their line, unknown-variable warnings,
stored variables), the staff pages (library, editor, live preview, duplicate, activate, delete),
viewers refused, and test sends through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from tests.support.smtp import SmtpSink
from webapp.contacts.models import Contact
from webapp.core.errors import Conflict, ValidationFailed
from webapp.delivery.test_send import NO_SERVER, TemplateTest, send_test
from webapp.settings.models import SmtpServer
from webapp.settings.service import organisation as org_settings
from webapp.suppression.service import suppression
from webapp.templates.models import EmailTemplate
from webapp.templates.service import templates
from webapp.templates.service.templates import SAMPLE_CONTACT

BROKEN_HTML = "<p>Hello</p>\n<p>{{ first_name }</p>\n"
HX = {"HX-Request": "true"}


async def make_template(db, name: str = "Welcome", **extra) -> EmailTemplate:
    data = {"name": name, "subject": "Hi {{ first_name }}", "html_content": "<p>Hello {{ first_name }}</p>", **extra}
    saved = await templates.create_template(db, data, created_by="Seeder")
    await db.commit()
    return saved.template


def form(**changes) -> dict[str, str]:
    return {
        "name": "Weekly",
        "subject": "News for {{ first_name }}",
        "template_type": "marketing",
        "category": "newsletter",
        "tags": "weekly, News",
        "text_content": "",
        "html_content": "<html><body><h1>Hello {{ first_name }}!</h1></body></html>",
        **changes,
    }


# ---- service -------------------------------------------------------------------------------


async def test_syntax_error_blocks_saving_and_names_the_line(db):
    with pytest.raises(ValidationFailed) as caught:
        await templates.create_template(db, {"name": "Broken", "html_content": BROKEN_HTML}, created_by="t")
    assert caught.value.errors["html_content"].startswith("Line 2: ")
    assert await db.scalar(select(EmailTemplate.id)) is None


async def test_variables_are_stored_and_unknown_ones_are_a_warning(db):
    await db.execute(insert(Contact), [{"email": "a@example.com", "custom_fields": {"plan": "pro"}}])
    saved = await templates.create_template(
        db,
        {
            "name": "Vars",
            "subject": "{{ first_name | default('there') }}",
            "html_content": (
                "{% if company %}{{ company }}{% endif %} {{ plan }} {{ favourite_colour }} {{ unsubscribe_url }}"
            ),
        },
        created_by="t",
    )
    assert saved.template.variables == ["company", "favourite_colour", "first_name", "plan", "unsubscribe_url"]
    assert saved.unknown_variables == ["favourite_colour"]  # plan is a custom field contacts have

    updated = await templates.update_template(db, saved.template.id, {"html_content": "{{ email }}"})
    assert updated.template.variables == ["email", "first_name"]
    assert updated.unknown_variables == []


LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


async def test_a_custom_field_only_older_contacts_have_is_no_unknown_variable(db, monkeypatch):
    from webapp.templates import queries

    monkeypatch.setattr(queries, "CUSTOM_FIELD_SAMPLE", 1)  # the newest contact alone: the sample misses it
    await db.execute(
        insert(Contact),
        [
            {
                "email": "old@example.com",
                "custom_fields": {"shoe_size": 42},
                "date_added": datetime(2020, 1, 1, tzinfo=UTC),
            },
            {"email": "new@example.com", "custom_fields": {}},
        ],
    )
    saved = await templates.create_template(
        db, {"name": "Shoes", "subject": "Hi", "html_content": "{{ shoe_size }} {{ hat_size }}"}, created_by="t"
    )
    assert saved.unknown_variables == ["hat_size"]
    # a preview, asked for as one types, reads the sample only: no scan of every contact per keystroke
    previewed = await templates.preview(db, {"subject": "Hi", "html_content": "{{ shoe_size }} {{ hat_size }}"})
    assert previewed.unknown_variables == ["hat_size", "shoe_size"]


async def test_validation_names_each_bad_field(db):
    with pytest.raises(ValidationFailed) as caught:
        await templates.create_template(
            db,
            {"name": " ", "template_type": "promo", "tags": [1], "colour": "red", "subject": "{% if %}"},
            created_by="t",
        )
    errors = caught.value.errors
    assert set(errors) == {"name", "template_type", "tags", "colour", "subject"}
    assert errors["subject"].startswith("Line 1: ")


async def test_preview_renders_for_a_contact_and_never_raises(db):
    ada = Contact(email="ada@example.com", first_name="Ada", custom_fields={"plan": "pro"})
    db.add(ada)
    await db.flush()
    parts = {
        "subject": "Hi {{ first_name }}",
        "html_content": '<a href="{{ unsubscribe_url }}">{{ plan }}</a>',
        "text_content": "",
    }
    shown = await templates.preview(db, parts, ada)
    assert (shown.subject, shown.html, shown.errors) == ("Hi Ada", '<a href="#">pro</a>', {})
    assert "pro" in shown.text
    assert (await templates.preview(db, parts)).subject == "Hi Jane"
    broken = await templates.preview(db, {**parts, "html_content": "{{ ''.__class__.__mro__ }}"})
    assert "html_content" in broken.errors and broken.html == ""  # named by the part that failed
    failing_subject = await templates.preview(db, {**parts, "subject": "Hi {{ 1 / 0 }}"})
    assert failing_subject.errors == {"subject": "Line 1: The template failed: division by zero"}


# ---- staff pages ---------------------------------------------------------------------------


async def test_library_empty_state_and_new_template_link(staff):
    client = await staff("editor")
    page = client.get("/templates")
    assert page.status_code == 200
    assert "No templates yet" in page.text
    assert 'href="/templates/new"' in page.text
    assert '<a href="/templates" aria-current="page">Templates</a>' in page.text


async def test_create_a_template_and_see_it_in_the_library(staff, db):
    client = await staff("editor")
    editor = client.get("/templates/new")
    assert editor.status_code == 200
    assert '<iframe sandbox="" srcdoc="' in editor.text
    created = client.post("/templates", data=form())
    assert created.status_code == 303
    template = await db.scalar(select(EmailTemplate))
    assert created.headers["location"] == f"/templates/{template.id}"
    assert (template.name, template.category, template.tags, template.variables, template.created_by) == (
        "Weekly",
        "newsletter",
        ["weekly", "news"],
        ["first_name"],
        "Editor",
    )

    library = client.get("/templates").text
    row = re.search(rf'<tr id="template-{template.id}".*?</tr>', library, re.S).group(0)
    for shown in (
        "Weekly",
        "marketing",
        "newsletter",
        '<span class="chip">weekly</span>',
        '<code class="var">first_name</code>',
        "active",
    ):
        assert shown in row
    assert "Template &#39;Weekly&#39; created." in library


async def test_broken_template_is_refused_with_the_line_and_keeps_what_was_typed(staff, db):
    client = await staff("editor")
    response = client.post("/templates", data=form(name="Kept <name>", html_content=BROKEN_HTML))
    assert response.status_code == 422
    assert 'value="Kept &lt;name&gt;"' in response.text
    assert html.escape(BROKEN_HTML, quote=False) in response.text
    assert re.search(r'id="html_content-error">Line 2: [^<]+</p>', response.text)
    assert await db.scalar(select(EmailTemplate.id)) is None


async def test_unknown_variables_are_flashed_as_a_warning(staff):
    client = await staff("editor")
    created = client.post("/templates", data=form(html_content="<p>{{ shoe_size }}</p>"))
    assert created.status_code == 303
    page = client.get(created.headers["location"]).text
    assert re.search(r'flash-warning">Unknown variables: shoe_size\.', page)
    assert "does not render for the sample contact" not in page


async def test_a_template_that_fails_for_the_sample_contact_saves_with_a_warning_naming_the_line(staff):
    client = await staff("editor")
    created = client.post("/templates", data=form(html_content="<p>Hi</p>\n<p>{{ 1 / 0 }}</p>"))
    assert created.status_code == 303
    page = html.unescape(client.get(created.headers["location"]).text)
    assert "It does not render for the sample contact (HTML: Line 2: The template failed: division by zero)" in page


async def test_preview_escapes_the_html_into_srcdoc(staff, db):
    db.add(Contact(email="Grace@Example.com", first_name="Grace <3"))
    await db.commit()
    client = await staff("editor")
    typed = form(
        subject="Hi {{ first_name }}",
        html_content='<p class="x">Hello {{ first_name }} & "co"</p>',
        preview_email="grace@example.com",
    )
    response = client.post("/templates/preview", data=typed, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="template-preview"')
    srcdoc = re.search(r'srcdoc="([^"]*)"', response.text).group(1)
    # The rendered HTML (contact data escaped once) is escaped again into the attribute.
    assert html.unescape(srcdoc) == '<p class="x">Hello Grace &lt;3 & "co"</p>'
    assert "&lt;p" in srcdoc and "&#34;co&#34;" in srcdoc and "&amp;lt;3" in srcdoc
    assert "<strong>Hi Grace &lt;3</strong>" in response.text
    assert "Previewing as <strong>Grace@Example.com</strong>" in response.text


async def test_preview_shows_syntax_errors_with_their_line(staff):
    client = await staff("editor")
    response = client.post("/templates/preview", data=form(html_content=BROKEN_HTML, subject="{{ x"), headers=HX)
    assert response.status_code == 200
    assert "<iframe" not in response.text
    assert re.search(r"<li>HTML: Line 2: [^<]+</li>", response.text)
    assert re.search(r'<p class="field-error" id="html_content-error" hx-swap-oob="true">Line 2: ', response.text)
    assert re.search(r'id="subject-error" hx-swap-oob="true">Line 1: ', response.text)


async def test_preview_suggests_contacts_for_a_partial_address(staff, db):
    db.add(Contact(email="margaret@nasa.example", first_name="Margaret", last_name="Hamilton"))
    await db.commit()
    client = await staff("editor")
    response = client.post("/templates/preview", data=form(preview_email="marg"), headers=HX)
    assert '<option value="margaret@nasa.example">Margaret Hamilton</option>' in response.text
    assert "showing the sample contact" in response.text


async def test_preview_without_javascript_renders_the_whole_editor(staff):
    client = await staff("editor")
    response = client.post("/templates/preview", data=form(name="Draft"))
    assert response.status_code == 200
    assert '<form id="template-form"' in response.text and 'value="Draft"' in response.text


async def test_edit_duplicate_deactivate_and_delete(staff, db):
    template = await make_template(db, tags=["a"])
    client = await staff("editor")
    assert client.post(f"/templates/{template.id}", data=form(name="Renamed")).status_code == 303
    await db.refresh(template)
    assert template.name == "Renamed"

    copied = client.post(f"/templates/{template.id}/duplicate")
    assert copied.status_code == 303
    copy = await db.scalar(select(EmailTemplate).where(EmailTemplate.id != template.id))
    assert copied.headers["location"] == f"/templates/{copy.id}"
    assert (copy.name, copy.html_content, copy.tags) == ("Copy of Renamed", template.html_content, template.tags)

    assert client.post(f"/templates/{template.id}/active", data={"is_active": "false"}).status_code == 303
    await db.refresh(template)
    assert template.is_active is False
    assert f'id="template-{template.id}"' not in client.get("/templates?status=active").text
    assert f'id="template-{template.id}"' in client.get("/templates?status=inactive").text
    client.post(f"/templates/{template.id}/active", data={"is_active": "true"})
    await db.refresh(template)
    assert template.is_active is True

    confirm = client.get(f"/templates/{template.id}/delete")
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.text
    deleted = client.post(f"/templates/{template.id}/delete")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/templates")
    assert await db.get(EmailTemplate, template.id, populate_existing=True) is None


async def test_library_filters_by_type_and_category(staff, db):
    await make_template(db, "News", category="Newsletter")
    await make_template(db, "Receipt", template_type="transactional", category="billing")
    client = await staff("viewer")
    names = lambda url: re.findall(r'<a href="/templates/\d+">([^<]+)</a>', client.get(url).text)  # noqa: E731
    assert names("/templates") == ["News", "Receipt"]
    assert names("/templates?template_type=transactional") == ["Receipt"]
    assert names("/templates?category=newsletter") == ["News"]
    assert names("/templates?template_type=bogus&status=bogus&cursor=garbage") == ["News", "Receipt"]
    assert client.get("/templates?status=%00").status_code == 400  # NUL: see test_api_hostile_input.py
    filtered = client.get("/templates?category=nothing")
    assert "No templates match" in filtered.text
    partial = client.get("/templates?template_type=marketing", headers={**HX, "HX-Target": "template-library"})
    assert partial.text.lstrip().startswith('<div id="template-library">')


async def test_library_pages_with_a_cursor(staff, db):
    await db.execute(insert(EmailTemplate), [{"name": f"T{i:03d}"} for i in range(55)])
    await db.commit()
    client = await staff("viewer")
    first = client.get("/templates").text
    assert first.count('<tr id="template-') == 50
    next_url = html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))
    second = client.get(next_url).text
    assert re.findall(r'<a href="/templates/\d+">([^<]+)</a>', second) == [f"T{i:03d}" for i in range(50, 55)]


async def test_viewer_sees_no_edit_controls_and_cannot_post(staff, db):
    template = await make_template(db)
    client = await staff("viewer")
    page = client.get(f"/templates/{template.id}")
    assert page.status_code == 200
    assert "Save template" not in page.text and "hx-post" not in page.text and "Duplicate" not in page.text
    assert "New template" not in client.get("/templates").text
    for url in (
        "/templates",
        f"/templates/{template.id}",
        "/templates/preview",
        "/templates/test-send",
        f"/templates/{template.id}/duplicate",
        f"/templates/{template.id}/active",
        f"/templates/{template.id}/delete",
    ):
        assert client.post(url, data=form()).status_code == 403, url
    for url in ("/templates/new", f"/templates/{template.id}/delete"):  # forms for a change they may not make
        assert client.get(url).status_code == 403, url
    await db.refresh(template)
    assert template.name == "Welcome"


async def test_bad_ids_are_404_not_500(staff):
    client = await staff("editor")
    for url in ("/templates/999", "/templates/99999999999999999999999", "/templates/0/delete"):
        assert client.get(url).status_code == 404, url
    assert client.post("/templates/999/duplicate").status_code == 404


# ---- test sends ----------------------------------------------------------------------------


async def add_server(db, port: int) -> None:
    db.add(SmtpServer(name="sink", host="127.0.0.1", port=port, tls_mode="none", allow_private=True))
    await db.commit()


def template_source(subject: str, html: str, from_email: str = "a@example.com", from_name: str = "") -> TemplateTest:
    return TemplateTest(subject, html, "", from_name, from_email)


async def test_send_test_delivers_the_message_as_a_campaign_would_send_it(db):
    with SmtpSink() as sink:
        await add_server(db, sink.port)
        ids = await send_test(
            db,
            template_source(
                "Hi {{ first_name }}",
                '<p>Hello {{ first_name }} <a href="{{ unsubscribe_url }}">x</a></p>',
                "news@acme.example",
                "Acme",
            ),
            "one@example.com, Two@Example.com",
            SAMPLE_CONTACT,
        )
    assert len(ids) == 2 and len(set(ids)) == 2
    assert sorted(sink.handler.recipients()) == ["Two@example.com", "one@example.com"]
    message = sink.messages[0]
    assert message["Subject"] == "[Test] Hi Jane"
    assert message["From"] == "Acme <news@acme.example>"
    assert message["Message-ID"] in ids
    assert "/u/unsubscribe/" in message["List-Unsubscribe"]
    body = message.get_body(("html",)).get_content()
    assert re.search(r'Hello Jane <a href="http[^"]+/u/unsubscribe/[^"]+">x</a>', body) and "/u/o/" in body
    assert "Hello Jane" in message.get_body(("plain",)).get_content()


async def test_send_test_validates_recipients_and_needs_a_server(db):
    for bad, message in (
        ("", "at least one"),
        ("not-an-address", "not-an-address"),
        (",".join(f"p{i}@example.com" for i in range(11)), "at most 10"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            await send_test(db, template_source("s", "<p>x</p>"), bad, SAMPLE_CONTACT)
        assert message in caught.value.errors["recipients"]
    with pytest.raises(ValidationFailed) as caught:
        await send_test(db, template_source("s", "{% if %}"), "b@example.com", SAMPLE_CONTACT)
    assert caught.value.errors["html_content"].startswith("Line 1: ")
    with pytest.raises(Conflict) as no_server:
        await send_test(db, template_source("s", "<p>x</p>"), "b@example.com", SAMPLE_CONTACT)
    assert no_server.value.message == NO_SERVER
    # an opt-out holds for tests too: a suppressed address, or a contact that unsubscribed
    await suppression.add(db, "gone@example.com", "complaint")
    db.add(Contact(email="left@example.com", status="unsubscribed"))
    await db.commit()
    for address, why in (("gone@example.com", "suppression list (complaint)"), ("left@example.com", "unsubscribed")):
        with pytest.raises(ValidationFailed) as opted_out:
            await send_test(db, template_source("s", "<p>x</p>"), f"b@example.com, {address}", SAMPLE_CONTACT)
        assert address in opted_out.value.errors["recipients"] and why in opted_out.value.errors["recipients"]


async def test_test_send_from_the_editor_goes_through_the_web_server(staff, db):
    """The live server caches its mailer for up to 10 s, so the message may take that long to go."""
    with SmtpSink() as sink:
        await org_settings.save(
            db, org_settings.OrgSettings(default_from_name="Acme", default_from_email="hi@acme.example")
        )
        await add_server(db, sink.port)
        client = await staff("editor")
        deadline = time.monotonic() + 15
        while True:
            response = client.post("/templates/test-send", data=form(recipients="qa@example.com"), headers=HX)
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            assert "Configure an SMTP server" in response.text
            time.sleep(1)
        assert response.status_code == 200, response.text
        assert response.text.lstrip().startswith('<div id="test-send"')
        assert "Sent 1 test email rendered for the sample contact." in response.text
        assert sink.handler.recipients() == ["qa@example.com"]
        assert sink.messages[0]["From"] == "Acme <hi@acme.example>"
        assert sink.messages[0]["Subject"] == "[Test] News for Jane"

        refused = client.post("/templates/test-send", data=form(recipients="nope"), headers=HX)
        assert refused.status_code == 422
        assert 'role="alert">nope: ' in refused.text and 'value="nope"' in refused.text

        # A template that fails is the content's problem, named by its part, not the To field's
        failing = form(recipients="qa@example.com", html_content="<p>Hi</p>\n{{ 1 / 0 }}")
        broken = client.post("/templates/test-send", data=failing, headers=HX)
        assert broken.status_code == 422 and 'id="recipients-error"' not in broken.text
        assert "Not sent: HTML: Line 2: The template failed: division by zero" in broken.text
        # outside the To field (after its hint), which is not marked wrong
        assert '</div><p class="field-error test-send-content-error" role="alert">Not sent: HTML' in broken.text
        assert 'aria-invalid="true"' not in broken.text
        assert 'value="qa@example.com"' in broken.text and len(sink.messages) == 1
