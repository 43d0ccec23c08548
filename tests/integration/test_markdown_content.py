"""Templates and campaigns written in Markdown: the HTML is made from the Markdown when saved (in
the API, the template editor and the campaign wizard), previews and test sends show it, copies
keep the Markdown, and the HTML cannot be sent beside it."""

from __future__ import annotations

import html
import re
import time

from markupsafe import escape
from sqlalchemy import select

from tests.integration.test_api_campaigns import fields
from tests.integration.test_templates_ui import HX, add_server, form
from tests.support.campaigns import audience
from tests.support.smtp import SmtpSink
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.settings.service import organisation as org_settings
from webapp.templates.models import EmailTemplate
from webapp.templates.service import templates

NEWS = '# Hello {{ first_name | default("there") }}\n\nRead [it online]({{ web_version_url }}).\n'
BROKEN = "# Hello\n\nFine line\n{{ first_name }\n"


async def test_a_template_written_in_markdown_through_the_api(api):
    client = await api("editor")
    created = client.post(
        "/api/templates", json={"name": "News", "content_format": "markdown", "markdown_content": NEWS}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["content_format"], body["markdown_content"]) == ("markdown", NEWS)
    assert '<h1>Hello {{ first_name | default("there") }}</h1>' in body["html_content"]
    assert '<a href="{{ web_version_url }}">it online</a>' in body["html_content"]
    assert body["variables"] == ["first_name", "web_version_url"]

    changed = client.put(f"/api/templates/{body['id']}", json={"markdown_content": "## Changed"}).json()
    assert "<h2>Changed</h2>" in changed["html_content"] and "Hello" not in changed["html_content"]

    refused = client.put(f"/api/templates/{body['id']}", json={"html_content": "<p>mine</p>"})
    assert refused.status_code == 422 and "made from the Markdown" in fields(refused)["html_content"]
    own_html = client.put(
        f"/api/templates/{body['id']}", json={"content_format": "html", "html_content": "<p>mine</p>"}
    )
    assert own_html.json()["html_content"] == "<p>mine</p>" and own_html.json()["markdown_content"] == "## Changed"


async def test_switching_html_to_markdown_without_writing_any_loses_nothing(api):
    client = await api("editor")
    created = client.post("/api/templates", json={"name": "HTML", "html_content": "<p>Kept</p>"}).json()
    refused = client.put(f"/api/templates/{created['id']}", json={"content_format": "markdown"})
    assert refused.status_code == 422 and "it would replace the email's HTML" in fields(refused)["markdown_content"]
    kept = client.get(f"/api/templates/{created['id']}").json()
    assert (kept["content_format"], kept["html_content"]) == ("html", "<p>Kept</p>")
    written = client.put(
        f"/api/templates/{created['id']}", json={"content_format": "markdown", "markdown_content": "Hi"}
    )
    assert "<p>Hi</p>" in written.json()["html_content"]


async def test_markdown_errors_name_the_markdowns_line_and_field(api):
    client = await api("editor")
    broken = client.post("/api/templates", json={"name": "x", "content_format": "markdown", "markdown_content": BROKEN})
    assert broken.status_code == 422 and fields(broken)["markdown_content"].startswith("Line 4: ")
    wrong = client.post("/api/templates", json={"name": "x", "content_format": "rst"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "content_format"


async def test_the_editor_saves_markdown_and_keeps_it_when_refused(staff, db):
    client = await staff("editor")
    typed = form(content_format="markdown", markdown_content=NEWS, html_content="<p>the HTML box, unused</p>")
    created = client.post("/templates", data=typed)
    assert created.status_code == 303
    template = await db.scalar(select(EmailTemplate))
    assert template.content_format == "markdown" and template.markdown_content == NEWS
    assert "<h1>Hello" in template.html_content and "unused" not in template.html_content

    library = client.get("/templates").text
    row = re.search(rf'<tr id="template-{template.id}".*?</tr>', library, re.S).group(0)
    assert '<span class="badge">Markdown</span>' in row
    page = client.get(created.headers["location"]).text
    assert re.search(
        r'<input type="radio" name="content_format" value="markdown" id="content_format-markdown"\s+checked', page
    )
    assert str(escape(NEWS)) in page

    refused = client.post(created.headers["location"], data=typed | {"markdown_content": BROKEN})
    assert refused.status_code == 422
    assert str(escape(BROKEN)) in refused.text
    assert re.search(r'id="markdown_content-error">Line 4: [^<]+</p>', refused.text)


async def test_the_preview_shows_the_markdown_made_into_html_with_errors_on_the_markdown(staff):
    client = await staff("editor")
    response = client.post(
        "/templates/preview", data=form(content_format="markdown", markdown_content=NEWS), headers=HX
    )
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', response.text).group(1))
    assert "<h1>Hello Jane</h1>" in srcdoc and '<a href="#">it online</a>' in srcdoc

    broken = client.post(
        "/templates/preview", data=form(content_format="markdown", markdown_content=BROKEN), headers=HX
    )
    assert re.search(r"<li>Markdown: Line 4: [^<]+</li>", broken.text)
    assert re.search(r'id="markdown_content-error" hx-swap-oob="true">Line 4: ', broken.text)

    failing = "# Hi\n\nSome text.\n\n{{ 1 / 0 }}\n"  # fails only when rendered: on the HTML's line 27
    typed = form(content_format="markdown", markdown_content=failing)
    fails = client.post("/templates/preview", data=typed, headers=HX)
    assert "Line 5: The template failed: division by zero" in fails.text
    saved = client.post("/templates", data=typed)
    assert saved.status_code == 303
    template = client.get(saved.headers["location"]).text
    assert "Markdown: Line 5: The template failed: division by zero" in template


async def test_a_test_send_from_the_editor_sends_the_markdowns_html_with_its_layout(staff, db):
    """As the editor's other test sends, it may wait for the live server's cached mailer (10 s)."""
    with SmtpSink() as sink:
        await org_settings.save(db, org_settings.OrgSettings(default_from_email="hi@acme.example"))
        await add_server(db, sink.port)
        client = await staff("editor")
        typed = form(content_format="markdown", markdown_content=NEWS, recipients="qa@example.com")
        deadline = time.monotonic() + 15
        while (sent := client.post("/templates/test-send", data=typed, headers=HX)).status_code != 200:
            assert time.monotonic() < deadline and "Configure an SMTP server" in sent.text, sent.text
            time.sleep(1)
    (message,) = sink.messages
    content = message.get_body(("html",)).get_content()
    assert re.search(r"<h1[^>]*>Hello Jane</h1>", content), "rendered for the sample contact"
    assert re.search(r'<div class="message" style="[^"]*max-width: ?600px', content), "the layout's CSS inlined"


async def test_campaigns_take_markdown_from_a_template_and_keep_it_in_copies(api, db):
    saved = await templates.create_template(
        db, {"name": "News", "content_format": "markdown", "markdown_content": NEWS}, created_by="t"
    )
    await db.commit()
    client = await api("editor")
    campaign = client.post("/api/campaigns", json={"name": "From Markdown", "template_id": saved.template.id}).json()
    assert (campaign["content_format"], campaign["markdown_content"]) == ("markdown", NEWS)
    assert campaign["html_content"] == saved.template.html_content

    edited = client.put(f"/api/campaigns/{campaign['id']}", json={"markdown_content": "Just *this*."}).json()
    assert "<p>Just <em>this</em>.</p>" in edited["html_content"]
    refused = client.put(f"/api/campaigns/{campaign['id']}", json={"html_content": "<p>x</p>"})
    assert refused.status_code == 422 and "html_content" in fields(refused)

    copy = await campaigns.duplicate(db, campaign["id"], created_by="t")
    assert (copy.content_format, copy.markdown_content) == ("markdown", "Just *this*.")
    assert "<em>this</em>" in copy.html_content


async def test_the_wizards_content_step_saves_markdown_and_needs_some(staff, db):
    await org_settings.save(db, org_settings.OrgSettings(organisation_name="Acme", postal_address="1 Main St"))
    c = Campaign(name="Wizard", subject="Hi", from_email="news@acme.example")
    db.add(c)
    await audience(db, 1)
    await db.commit()
    campaign_id = c.id
    client = await staff("editor")

    empty = {
        "content_format": "markdown",
        "markdown_content": " ",
        "html_content": "",
        "text_content": "",
        "go": "next",
    }
    refused = client.post(f"/campaigns/{campaign_id}/content", data=empty)
    assert refused.status_code == 422
    assert re.search(r'id="markdown_content-error">Pick a template or write the content\.</p>', refused.text)

    saved = client.post(f"/campaigns/{campaign_id}/content", data=empty | {"markdown_content": NEWS})
    assert saved.status_code == 303 and saved.headers["location"] == f"/campaigns/{campaign_id}/settings"
    db.expire_all()
    stored = await db.get(Campaign, campaign_id)
    assert stored.content_format == "markdown" and "<h1>Hello" in stored.html_content
    review = client.get(f"/campaigns/{campaign_id}/review").text
    assert "Markdown (made into HTML); the text part is generated" in review  # not "HTML"

    preview = client.post(f"/campaigns/{campaign_id}/content/preview", data=empty | {"markdown_content": "## Soon"})
    assert "&lt;h2&gt;Soon&lt;/h2&gt;" in preview.text
    page = client.get(f"/campaigns/{campaign_id}/content").text
    assert str(escape(NEWS)) in page
