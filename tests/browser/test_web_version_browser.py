"""A subscriber opens a message's web version in Chromium: the email shows with its images, its
script does not run (the page is sandboxed), and a tracked link goes where the email said."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import text

from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign
from webapp.core.tokens import make_token


def sent_message(base_url: str) -> str:
    """A campaign sent to one contact; the link of its web version."""
    html = f"""<html><body><h1>Hello {{{{ first_name }}}}</h1>
<img src="{base_url}/static/img/favicon.svg" alt="Our logo" width="32" height="32">
<p><a href="{base_url}/login">Sign in to your account</a></p>
<script>document.title = "script ran"</script>
</body></html>"""

    async def go(session) -> int:
        email_list = await audience(session, 1)
        campaign = await ready_campaign(session, [email_list.id], html_content=html)
        delivery_id = await session.scalar(
            text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                    SELECT :c, id, email, 'sent', now() FROM contacts RETURNING id"""),
            {"c": campaign.id},
        )
        await session.execute(text("UPDATE campaigns SET status = 'sent' WHERE id = :c"), {"c": campaign.id})
        return int(delivery_id)

    return f"{base_url}/u/view/{make_token('unsubscribe', run_db(go))}"


def test_a_subscriber_reads_the_web_version_and_follows_its_link(clean, page, base_url, csp_violations):
    page.goto(sent_message(base_url))
    expect(page.get_by_role("heading", name="Hello Person0")).to_be_visible()
    logo = page.get_by_role("img", name="Our logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("(img) => img.complete && img.naturalWidth > 0"), "the email's image loads"
    assert page.title() != "script ran"
    csp_violations.clear()  # the email's script, refused on purpose

    link = page.get_by_role("link", name="Sign in to your account")
    assert "/u/c/" in (link.get_attribute("href") or ""), "the link is tracked, as in the email"
    link.click()
    expect(page).to_have_url(f"{base_url}/login")
