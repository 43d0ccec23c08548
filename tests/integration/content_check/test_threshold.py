"""A campaign whose content check scores at or over the threshold is neither sent nor scheduled,
through the API or the staff pages, until an admin overrides it; the override names who and when,
is shown on the campaign, and holds only for the content it was given for."""

from __future__ import annotations

from tests.support.campaigns import audience, ready_campaign, reviewed
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import content_check
from webapp.settings.service import stored

NO_RECORDS = {"spf_missing", "dmarc_missing", "dkim_not_signed"}  # 3 points: the local DNS server knows nothing


async def blocked_campaign(db, threshold: float = 2.5):
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    await stored.save(db, content_check.KEY, {"threshold": threshold})
    await db.commit()
    return c


async def override(db, staff, campaign_id: int) -> None:
    """An admin overrides on the review step (API keys are never admins)."""
    admin = await staff("admin")
    assert admin.post(f"/campaigns/{campaign_id}/review/override").status_code == 303


async def test_the_api_refuses_to_send_over_the_threshold_until_an_admin_overrides(db, api, staff, dns):
    c = await blocked_campaign(db)
    editor = await api("editor")

    checked = editor.post(f"/api/campaigns/{c.id}/content-check")
    assert checked.status_code == 200
    body = checked.json()
    assert {f["code"] for f in body["findings"]} == NO_RECORDS
    assert (body["score"], body["threshold"], body["blocks_sending"]) == (3.0, 2.5, True)
    assert body["unchecked"] == [] and body["spamassassin_score"] is None and body["overridden_by"] is None
    assert all(f["explanation"] and f["fix"] for f in body["findings"])

    assert (await api("viewer")).post(f"/api/campaigns/{c.id}/content-check").status_code == 403
    refused = editor.post(f"/api/campaigns/{c.id}/send")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("The content check scored 3, at or over the threshold of 2.5")
    later = editor.post(f"/api/campaigns/{c.id}/schedule", json={"scheduled_time": "2099-01-01T10:00"})
    assert later.status_code == 409

    await override(db, staff, c.id)
    overridden = editor.post(f"/api/campaigns/{c.id}/content-check").json()
    assert overridden["overridden_by"] == "Admin" and overridden["overridden_at"]
    assert overridden["blocks_sending"] is False
    assert editor.post(f"/api/campaigns/{c.id}/send").status_code == 202


async def test_new_content_needs_a_new_override_and_fixed_records_clear_the_block(db, api, staff, dns):
    c = await blocked_campaign(db)
    editor = await api("editor")
    editor.post(f"/api/campaigns/{c.id}/content-check")
    await override(db, staff, c.id)

    assert editor.put(f"/api/campaigns/{c.id}", json={"subject": "Another subject"}).status_code == 200
    assert editor.post(f"/api/campaigns/{c.id}/send").status_code == 409  # checked again: no override for this

    dns.records["example.com"] = ["v=spf1 ip4:192.0.2.1 -all"]
    dns.records["_dmarc.example.com"] = ["v=DMARC1; p=reject"]
    assert editor.post(f"/api/campaigns/{c.id}/content-check").json()["score"] == 1.0
    assert editor.post(f"/api/campaigns/{c.id}/send").status_code == 202


async def test_an_under_threshold_campaign_goes_out_without_asking(db, api, dns):
    c = await blocked_campaign(db, threshold=5.0)
    assert (await api("editor")).post(f"/api/campaigns/{c.id}/send").status_code == 202


async def test_the_review_step_shows_the_findings_and_sending_is_refused_until_overridden(db, staff, dns):
    c = await blocked_campaign(db)
    editor, admin = await staff("editor"), await staff("admin")

    review = reviewed(editor, c.id)
    assert review.status_code == 200
    assert "No SPF record for example.com" in review.text and "Fix:" in review.text
    assert "cannot be sent or scheduled" in review.text and "ask an admin" in review.text
    assert "Allow sending anyway" not in review.text
    assert editor.post(f"/campaigns/{c.id}/review/override").status_code == 403

    refused = editor.post(f"/campaigns/{c.id}/send")
    assert refused.status_code == 409 and "at or over the threshold of 2.5" in refused.text

    assert "Allow sending anyway" in admin.get(f"/campaigns/{c.id}/review").text
    assert admin.post(f"/campaigns/{c.id}/review/override").status_code == 303
    review = editor.get(f"/campaigns/{c.id}/review")
    assert "let it go out anyway" in review.text and "cannot be sent" not in review.text

    assert editor.post(f"/campaigns/{c.id}/send").status_code == 303
    page = editor.get(f"/campaigns/{c.id}")
    assert "Content check" in page.text and "let it go out over the threshold" in page.text


async def test_admins_set_the_threshold_and_see_where_the_check_asks(db, staff, dns):
    admin, editor = await staff("admin"), await staff("editor")
    page = admin.get("/settings/content-check")
    assert page.status_code == 200
    assert 'value="5.0"' in page.text and "not configured: set <code>MAILROOM_SPAMD</code>" in page.text
    assert "the resolver at <code>127.0.0.1:" in page.text  # the tests' local DNS server

    refused = admin.post("/settings/content-check", data={"threshold": "0"})
    assert refused.status_code == 422 and "Score threshold must be between 1 and 100." in refused.text
    assert admin.post("/settings/content-check", data={"threshold": "7.5"}).status_code == 303
    assert await content_check.threshold(db) == 7.5

    assert editor.get("/settings/content-check").status_code == 403
    assert editor.post("/settings/content-check", data={"threshold": "50"}).status_code == 403


async def test_the_review_step_says_what_was_not_checked_when_dns_is_silent(db, staff, dns):
    c = await blocked_campaign(db)
    dns.silent = True
    review = (await staff("editor")).get(f"/campaigns/{c.id}/review/check")  # the card
    assert "Not checked: DNS did not answer within 3 s, so the SPF, DKIM and DMARC records were not checked." in (
        review.text
    )
    assert "No SPF record" not in review.text
    assert "cannot be sent or scheduled" not in review.text  # scored on what was checked: 0


async def test_check_again_picks_up_records_published_since(db, staff, dns):
    c = await blocked_campaign(db)
    editor = await staff("editor")
    assert "cannot be sent or scheduled" in reviewed(editor, c.id).text
    dns.records["example.com"] = ["v=spf1 ip4:192.0.2.1 -all"]
    dns.records["_dmarc.example.com"] = ["v=DMARC1; p=reject"]
    assert "cannot be sent or scheduled" in editor.get(f"/campaigns/{c.id}/review").text  # kept: same content

    assert editor.post(f"/campaigns/{c.id}/review/check").status_code == 303
    review = editor.get(f"/campaigns/{c.id}/review")
    assert "Checked again: the content scores 1." in review.text
    assert "cannot be sent or scheduled" not in review.text and "No SPF record" not in review.text


async def test_the_review_step_opens_at_once_and_its_card_asks_for_the_check(db, staff, dns):
    c = await blocked_campaign(db, threshold=5.0)
    editor = await staff("editor")
    first = editor.get(f"/campaigns/{c.id}/review")
    assert "Checking the content" in first.text and f'hx-get="/campaigns/{c.id}/review/check"' in first.text
    assert "with SpamAssassin" not in first.text  # none configured: only Mailroom's own checks run
    assert await content_check.verdict(db, await db.get(Campaign, c.id)) is None  # not checked by the page

    card = editor.get(f"/campaigns/{c.id}/review/check")
    assert card.status_code == 200 and "HX-Refresh" not in card.headers
    assert "Score <strong>3</strong>" in card.text and "No SPF record" in card.text and "<html" not in card.text
    again = editor.get(f"/campaigns/{c.id}/review")
    assert "Checking the content" not in again.text and "No SPF record" in again.text  # kept: shown at once
    assert (await staff("viewer")).get(f"/campaigns/{c.id}/review/check").status_code == 403


async def test_content_too_large_once_its_footer_is_added_says_so_on_the_card(db, staff, dns):
    """Under the template's size limit, over the rendered message's once the footer and tracking are
    added: the card says why nothing is checked (it said "fix the problems above", and none were)."""
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id], html_content="<p>" + "a" * 999_900 + "</p>")
    await db.commit()
    editor = await staff("editor")
    card = editor.get(f"/campaigns/{c.id}/review/check")
    assert card.status_code == 200
    assert "The content cannot be checked, and cannot be sent: " in card.text
    assert "The rendered message is larger than 1,000,000 characters." in card.text
    again = editor.post(f"/campaigns/{c.id}/review/check", follow_redirects=True)
    assert "The content cannot be checked: " in again.text
    refused = editor.post(f"/campaigns/{c.id}/send", follow_redirects=True)
    assert "larger than 1,000,000 characters" in refused.text
    assert (await db.get(Campaign, c.id)).status == "draft"


async def test_a_card_whose_check_blocks_sending_reloads_the_page_to_disable_its_buttons(db, staff, dns):
    c = await blocked_campaign(db)
    editor = await staff("editor")
    assert 'class="primary" >Send now' in editor.get(f"/campaigns/{c.id}/review").text  # usable until checked
    card = editor.get(f"/campaigns/{c.id}/review/check", headers={"HX-Request": "true"})
    assert card.headers.get("HX-Refresh") == "true"
    review = editor.get(f"/campaigns/{c.id}/review")
    assert "cannot be sent or scheduled" in review.text
    assert 'class="primary" disabled>Send now' in review.text


async def test_a_card_asked_for_after_the_campaign_went_out_reloads_the_page_instead(db, staff, dns):
    c = await blocked_campaign(db, threshold=5.0)
    editor = await staff("editor")
    assert "Checking the content" in editor.get(f"/campaigns/{c.id}/review").text
    assert editor.post(f"/campaigns/{c.id}/send").status_code == 303  # sent from another tab meanwhile
    card = editor.get(f"/campaigns/{c.id}/review/check", headers={"HX-Request": "true"})
    assert card.headers.get("HX-Refresh") == "true" and "<html" not in card.text
    gone = editor.get("/campaigns/9999/review/check", headers={"HX-Request": "true"})
    assert gone.headers.get("HX-Refresh") == "true"
    assert editor.get("/campaigns/9999/review/check").status_code == 404  # not from htmx: the error page
