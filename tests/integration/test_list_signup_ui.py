"""Staff side of public subscription: the list form's public/double opt-in/consent settings, and the
list page's hosted URL and embeddable form snippet (escaped, posting to the hosted endpoint)."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import text

from webapp.core.errors import ValidationFailed
from webapp.lists.models import EmailList
from webapp.lists.service import lists

CONSENT = 'Yes, send me news & offers <script>alert("x")</script>'


async def test_editor_makes_a_list_public_and_copies_a_working_snippet(db, live_server, staff):
    editor = await staff("editor")
    created = editor.post(
        "/lists",
        data={
            "name": "Newsletter",
            "signup_shown": "1",
            "is_public": "true",
            "double_opt_in": "true",
            "consent_text": CONSENT,
        },
    )
    assert created.status_code == 303
    row = (await db.execute(text("SELECT id, is_public, double_opt_in, consent_text FROM email_lists"))).one()
    assert row.is_public and row.double_opt_in and row.consent_text == CONSENT

    page = editor.get(f"/lists/{row.id}")
    assert page.status_code == 200
    hosted = f"{live_server}/subscribe/{row.id}"
    assert f'href="{hosted}"' in page.text
    snippet_html = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
    assert "<script>" not in snippet_html and "<form" not in snippet_html  # shown as text, not markup
    snippet = html.unescape(snippet_html)
    assert f'<form method="post" action="{hosted}"' in snippet
    assert 'name="website"' in snippet and 'name="consent"' in snippet and 'value="form"' in snippet
    assert "&lt;script&gt;" in snippet  # the consent text is escaped inside the snippet too
    assert 'data-copy="#embed-snippet"' in page.text

    # The snippet's fields, posted as a browser on another site would: accepted, recorded as "form".
    answer = httpx.post(
        hosted,
        data={"source": "form", "email": "reader@example.com", "first_name": "", "website": "", "consent": "yes"},
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert await db.scalar(text("SELECT source FROM subscriptions")) == "form"


async def test_settings_are_kept_on_edit_and_turned_off(db, live_server, staff):
    editor = await staff("editor")
    email_list = await lists.create_list(
        db, {"name": "Deals", "is_public": True, "double_opt_in": True, "consent_text": "OK"}, created_by="t"
    )
    list_id = email_list.id
    await db.commit()
    form = editor.get(f"/lists/{list_id}/edit").text
    assert 'name="is_public" value="yes" checked' in form and 'name="double_opt_in" value="yes" checked' in form
    assert ">OK</textarea>" in form
    # Unticked boxes are not sent: the form's marker says the section was there.
    saved = editor.post(f"/lists/{list_id}/edit", data={"name": "Deals", "signup_shown": "1", "consent_text": ""})
    assert saved.status_code == 303
    db.expire_all()
    email_list = await db.get(EmailList, list_id)
    assert (email_list.is_public, email_list.double_opt_in, email_list.consent_text) == (False, False, "")
    assert "Not public." in editor.get(f"/lists/{list_id}").text
    assert httpx.get(f"{live_server}/subscribe/{list_id}").status_code == 404
    too_long = editor.post(
        f"/lists/{list_id}/edit", data={"name": "Deals", "signup_shown": "1", "consent_text": "x" * 2001}
    )
    assert too_long.status_code == 422 and "Consent text must be at most 2000 characters." in too_long.text


async def test_only_static_lists_can_be_public(db):
    with pytest.raises(ValidationFailed) as refused:
        await lists.create_list(db, {"name": "Openers", "list_type": "dynamic", "is_public": True}, created_by="t")
    assert "is_public" in refused.value.errors
