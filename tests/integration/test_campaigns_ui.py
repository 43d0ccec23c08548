"""The campaigns staff UI against the real server: the wizard from an empty draft to `sending`,
the live audience count, actions refused by the state machine (409 with the reason), duplicate,
scheduling in a time zone, the list with its filter and pages, and viewers refused."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text, update

from tests.support.campaigns import HTML, audience, ready_campaign, reviewed
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList, ListMember
from webapp.settings.service import organisation as org_settings
from webapp.templates.models import EmailTemplate

HX = {"HX-Request": "true"}


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.text))


async def fresh(db, c: Campaign) -> Campaign:
    await db.refresh(c)
    return c


async def status_of(db, campaign_id: int) -> str:
    return await db.scalar(select(Campaign.status).where(Campaign.id == campaign_id))


async def test_the_wizard_builds_a_draft_step_by_step_and_sends_it(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 5, name="Customers")
    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Acme",
            postal_address="1 Main St",
            default_from_name="Acme News",
            default_from_email="news@acme.example",
        ),
    )
    template = EmailTemplate(name="Monthly", subject="Ignored", html_content=HTML, text_content="Hi {{ first_name }}")
    db.add(template)
    await db.commit()

    new = editor.get("/campaigns/new")
    assert new.status_code == 200
    assert 'value="Acme News"' in new.text and 'value="news@acme.example"' in new.text  # org defaults

    response = editor.post(
        "/campaigns/new",
        data={
            "name": "Spring sale",
            "subject": "Hello {{ first_name }}",
            "from_name": "Acme News",
            "from_email": "news@acme.example",
            "reply_to": "",
            "go": "next",
        },
    )
    assert response.status_code == 303, response.text
    c = await db.scalar(select(Campaign))
    assert (c.status, c.name, c.created_by) == ("draft", "Spring sale", "Editor")
    assert response.headers["location"] == f"/campaigns/{c.id}/audience"

    step = editor.get(f"/campaigns/{c.id}/audience")
    assert "Customers" in step.text and 'aria-current="step"' in step.text
    assert editor.post(f"/campaigns/{c.id}/audience", data={"go": "next"}).status_code == 422  # no list chosen
    response = editor.post(f"/campaigns/{c.id}/audience", data={"list_ids": [str(email_list.id)], "go": "next"})
    assert response.headers["location"] == f"/campaigns/{c.id}/content"

    response = editor.post(
        f"/campaigns/{c.id}/content", data={"template_id": str(template.id), "html_content": "", "go": "template"}
    )
    assert response.headers["location"] == f"/campaigns/{c.id}/content"  # stays to show the copy
    content = editor.get(f"/campaigns/{c.id}/content")
    assert "See the offer" in html.unescape(content.text) and "<iframe sandbox" in content.text
    c = await fresh(db, c)
    assert c.subject == "Hello {{ first_name }}"  # the template's subject does not replace the one typed
    copied = c.html_content
    editor.post(f"/campaigns/{c.id}/content", data={"html_content": "<p>changed my mind</p>", "go": "save"})
    editor.post(f"/campaigns/{c.id}/content", data={"template_id": str(template.id), "go": "template"})
    c = await fresh(db, c)
    assert c.html_content == copied  # the same template used again copies it again
    response = editor.post(
        f"/campaigns/{c.id}/content",
        data={"html_content": c.html_content, "text_content": c.text_content, "go": "next"},
    )
    assert response.headers["location"] == f"/campaigns/{c.id}/settings"

    response = editor.post(
        f"/campaigns/{c.id}/settings", data={"track_opens": "on", "unsubscribe_link": "on", "go": "next"}
    )
    assert response.headers["location"] == f"/campaigns/{c.id}/review"
    assert (await fresh(db, c)).settings == {
        "track_opens": True,
        "track_clicks": False,
        "unsubscribe_link": True,
        "suppress_duplicates": True,  # not a choice: always so
        "web_version_link": False,
        "archive": False,
    }

    review = page_text(editor.get(f"/campaigns/{c.id}/review"))
    assert "Before this can go out" not in review
    assert re.search(r'class="review-count">5<', review)
    assert "Send now" in review and "Europe/Madrid" in review

    response = editor.post(f"/campaigns/{c.id}/send")
    assert response.status_code == 303 and response.headers["location"] == f"/campaigns/{c.id}"
    assert await status_of(db, c.id) == "sending"
    page = page_text(editor.get(f"/campaigns/{c.id}"))
    assert 'class="badge status-sending"' in page and 'sse-connect="/campaigns/' in page  # live, no banner
    assert editor.get(f"/campaigns/{c.id}/details", follow_redirects=False).status_code == 303  # not a draft


async def test_a_filter_that_does_not_exist_is_refused_at_the_content_step_and_named_at_review(staff, db):
    editor = await staff("editor")
    editor.post("/campaigns/new", data={"name": "Typo", "go": "next"})
    c = await db.scalar(select(Campaign))
    typo = "<p>Hi</p>\n<p>{{ first_name | titlecase }}</p>"
    refused = editor.post(f"/campaigns/{c.id}/content", data={"html_content": typo, "go": "next"})
    assert refused.status_code == 422 and "Line 2: there is no filter named" in refused.text
    # Saved before filters were checked at this step: the review names it rather than failing.
    await db.execute(update(Campaign).where(Campaign.id == c.id).values(html_content=typo))
    await db.commit()
    review = editor.get(f"/campaigns/{c.id}/review")
    assert review.status_code == 200 and "Line 2: there is no filter named" in review.text


async def test_content_that_fails_for_the_sample_contact_blocks_the_review_and_says_why_when_sent(staff, db):
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    failing = "<p>{{ plan|int + nothing.x }}</p>"  # fine syntax; no contact has `nothing`
    await db.execute(update(Campaign).where(Campaign.id == c.id).values(html_content=failing))
    await db.commit()
    editor = await staff("editor")
    review = page_text(editor.get(f"/campaigns/{c.id}/review"))
    assert "Before this can go out" in review and "The template failed" in review
    assert re.search(r'<button type="submit" class="primary" disabled>Send now', review)
    refused = editor.post(f"/campaigns/{c.id}/send")  # from the review page, whose form posts the whole page
    assert refused.status_code == 422
    flash = re.search(r'<div class="flash flash-error"[^>]*>(.*?)</div>', refused.text, re.DOTALL)
    assert flash and "Not ready to send: " in flash.group(1)  # outside the part the live status replaces
    assert await status_of(db, c.id) == "draft"


async def test_wizard_keeps_what_was_typed_and_says_what_is_wrong(staff, db):
    editor = await staff("editor")
    response = editor.post("/campaigns/new", data={"name": "", "from_email": "not-an-address", "go": "next"})
    assert response.status_code == 422
    text_ = page_text(response)
    assert "Give the campaign a name." in text_ and 'value="not-an-address"' in text_
    assert await db.scalar(select(Campaign)) is None

    editor.post("/campaigns/new", data={"name": "Draft", "go": "next"})
    c = await db.scalar(select(Campaign))
    response = editor.post(f"/campaigns/{c.id}/content", data={"html_content": "<p>{{ first_name }</p>", "go": "next"})
    assert response.status_code == 422 and "Line 1:" in response.text and "{{ first_name }&lt;/p&gt;" in response.text
    review = page_text(editor.get(f"/campaigns/{c.id}/review"))
    assert "Before this can go out" in review
    for message, step in [
        ("Write a subject line.", "details"),
        ("Choose at least one list to send to.", "audience"),
        ("Pick a template or write the content.", "content"),
    ]:
        assert re.search(re.escape(message) + rf' <a href="/campaigns/{c.id}/{step}">', review), message
    assert re.search(r'<button type="submit" class="primary" disabled>Send now', review)
    assert editor.post(f"/campaigns/{c.id}/send").status_code == 422  # refused by the service too
    assert await status_of(db, c.id) == "draft"


async def test_review_warns_about_unsigned_mail_unsubscribe_link_text_part_and_spammy_subject(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 2)
    await org_settings.save(db, org_settings.OrgSettings(organisation_name="Acme", postal_address="1 Main St"))
    c = await campaigns.create_campaign(
        db,
        {
            "name": "Loud",
            "subject": "BUY NOW, HUGE SAVINGS!!!",
            "from_email": "a@example.com",
            "html_content": '<p>Hi <a href="https://example.com/{{ first_name }}">you</a></p>',
            "list_ids": [email_list.id],
        },
        created_by="t",
    )
    await db.commit()
    review = page_text(reviewed(editor, c.id))
    assert "Before this can go out" not in review  # warnings never block
    assert "1 link is built with template syntax (https://example.com/{{ first_name }})" in review
    assert "go out untracked" in review
    assert "Messages are not DKIM-signed" in review
    assert "no {{ unsubscribe_url }} link. The footer adds one" in review
    assert "no text part; one is generated" in review
    assert "is mostly CAPITAL LETTERS and has 3 exclamation marks" in review


async def test_review_does_not_warn_about_mailroom_s_own_untracked_links(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 2)
    html = (
        '<p><a href="https://example.com/offer">Offer</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a> '
        "<a href='{{preferences_url}}'>Preferences</a> <a href=\"{{ web_version_url }}\">Web</a></p>"
    )
    c = await campaigns.create_campaign(
        db,
        {"name": "Own links", "subject": "Hello", "from_email": "a@example.com", "html_content": html,
         "list_ids": [email_list.id]},
        created_by="t",
    )  # fmt: skip
    await db.commit()
    assert "built with template syntax" not in page_text(reviewed(editor, c.id))


async def test_audience_count_leaves_out_suppressed_contacts_and_counts_each_person_once(staff, db):
    editor = await staff("editor")
    first, second = EmailList(name="First"), EmailList(name="Second")
    db.add_all([first, second])
    people = [Contact(email=f"p{i}@example.com") for i in range(6)]
    people[1].status, people[2].status, people[3].status, people[4].is_active = (
        "unsubscribed",
        "bounced",
        "complained",
        False,
    )
    db.add_all(people)
    await db.flush()
    db.add_all(
        [ListMember(list_id=first.id, contact_id=p.id) for p in people]
        + [ListMember(list_id=second.id, contact_id=people[0].id)]
    )
    c = Campaign(name="Count me")
    db.add(c)
    await db.commit()

    both = editor.post(
        f"/campaigns/{c.id}/audience/count", data={"list_ids": [str(first.id), str(second.id)]}, headers=HX
    )
    assert both.status_code == 200 and "<form" not in both.text  # the live region's contents
    assert re.search(r"<strong>2</strong> recipients", both.text)  # p0 (on both lists) and p5
    only_second = editor.post(f"/campaigns/{c.id}/audience/count", data={"list_ids": str(second.id)}, headers=HX)
    assert re.search(r"<strong>1</strong> recipient\b", only_second.text)
    junk = editor.post(f"/campaigns/{c.id}/audience/count", data={"list_ids": ["x", "99999999999999999999999"]})
    assert junk.status_code == 200 and "<strong>0</strong>" in junk.text


async def test_actions_the_status_does_not_allow_are_refused_with_the_reason(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 3)
    draft = await ready_campaign(db, [email_list.id])
    done = await ready_campaign(db, [email_list.id], name="Done")
    done.status = "sent"
    await db.commit()

    response = editor.post(f"/campaigns/{draft.id}/pause")
    assert response.status_code == 409
    assert "This campaign is draft, so it cannot be paused." in page_text(response)
    assert 'id="campaign-page"' in response.text  # the whole page, with the reason in its header

    partial = editor.post(f"/campaigns/{done.id}/send", headers={**HX, "HX-Target": f"campaign-{done.id}-status"})
    assert partial.status_code == 409 and partial.text.lstrip().startswith(f'<div id="campaign-{done.id}-status"')
    assert "This campaign is sent, which is final: it cannot be sent. Duplicate it to send its content again." in (
        page_text(partial)
    )
    for action in ("cancel", "resume", "delete", "edit"):
        assert editor.post(f"/campaigns/{done.id}/{action}").status_code == 409, action
    assert await status_of(db, done.id) == "sent" and await status_of(db, draft.id) == "draft"

    for scheduled_time in ("2099-01-01T10:00", ""):  # from a review page left open: the state comes first
        response = editor.post(f"/campaigns/{done.id}/schedule", data={"scheduled_time": scheduled_time})
        assert response.status_code == 409 and 'id="campaign-page"' in response.text
        assert "This campaign is sent, which is final: it cannot be scheduled." in page_text(response)
    assert editor.post(f"/campaigns/{draft.id}/send").status_code == 303
    assert editor.post(f"/campaigns/{draft.id}/pause").status_code == 303
    assert await status_of(db, draft.id) == "paused"
    page = page_text(editor.get(f"/campaigns/{draft.id}"))
    assert "<strong>Paused:</strong> Paused by staff." in page and ">Resume<" in page and ">Pause<" not in page
    assert editor.post(f"/campaigns/{draft.id}/resume", headers=HX).headers["hx-location"]
    assert await status_of(db, draft.id) == "sending"


async def test_automatic_pause_reason_is_shown_prominently(staff, db):
    viewer = await staff("viewer")
    email_list = await audience(db, 1)
    c = await ready_campaign(db, [email_list.id])
    c.status, c.status_reason = "paused", "Paused automatically after 50 failed messages in a row. Last error: 421"
    await db.commit()
    page = viewer.get(f"/campaigns/{c.id}").text
    assert re.search(r'class="status-reason alarm" role="alert">\s*<strong>Paused:</strong> Paused automatically', page)
    assert ">Resume<" not in page  # viewers get no buttons


async def test_duplicate_makes_a_draft_with_the_same_content_and_lists(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 2)
    original = await ready_campaign(db, [email_list.id])
    original.status = "sent"
    await db.commit()
    response = editor.post(f"/campaigns/{original.id}/duplicate")
    copy = await db.scalar(select(Campaign).where(Campaign.id != original.id))
    assert response.status_code == 303 and response.headers["location"] == f"/campaigns/{copy.id}/details"
    assert (copy.name, copy.status, copy.html_content) == ("Copy of Test campaign", "draft", original.html_content)
    assert await campaigns.list_ids_of(db, copy.id) == [email_list.id]


async def test_edit_puts_a_scheduled_campaign_back_to_draft_and_the_review_offers_its_time_again(staff, db, api):
    editor = await staff("editor")
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    when = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    await campaigns.schedule(db, c.id, when.isoformat())
    await db.commit()
    response = editor.post(f"/campaigns/{c.id}/edit")
    assert response.headers["location"] == f"/campaigns/{c.id}/details"
    c = await fresh(db, c)
    assert c.status == "draft"
    review = editor.get(f"/campaigns/{c.id}/review").text
    assert f'value="{when.strftime("%Y-%m-%dT%H:%M")}"' in review  # what was picked, to schedule again as it was
    assert "Scheduled for" not in editor.get(f"/campaigns/{c.id}").text
    assert (await api("viewer")).get(f"/api/campaigns/{c.id}").json()["scheduled_time"] is None  # a draft starts never

    assert (
        editor.post(
            f"/campaigns/{c.id}/schedule", data={"scheduled_time": when.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC"}
        ).status_code
        == 303
    )
    c = await fresh(db, c)
    assert (c.status, c.scheduled_at) == ("scheduled", when)


async def test_schedule_in_a_time_zone_stores_utc_and_refuses_the_past(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    await db.commit()
    year = datetime.now().year + 1
    response = editor.post(
        f"/campaigns/{c.id}/schedule", data={"scheduled_time": f"{year}-07-01T09:30", "timezone": "Europe/Madrid"}
    )
    assert response.status_code == 303, response.text
    c = await fresh(db, c)
    assert c.status == "scheduled" and c.timezone == "Europe/Madrid"
    assert c.scheduled_at == datetime(year, 7, 1, 7, 30, tzinfo=UTC)  # CEST is UTC+2
    page = page_text(editor.get(f"/campaigns/{c.id}"))
    assert f"Scheduled for {year}-07-01 09:30 Europe/Madrid" in page

    draft = await ready_campaign(db, [email_list.id], name="Draft in Tokyo")
    await db.execute(text("UPDATE campaigns SET timezone = 'Asia/Tokyo' WHERE id = :c"), {"c": draft.id})
    await db.commit()
    listed = page_text(editor.get("/campaigns"))  # every time in the list names its zone
    assert re.search(r"Edited</span> \d{4}-\d\d-\d\d \d\d:\d\d Asia/Tokyo", listed), listed
    assert f"Scheduled for</span> {year}-07-01 09:30 Europe/Madrid" in listed
    own_page = page_text(editor.get(f"/campaigns/{draft.id}"))
    assert re.search(r"Draft, last edited \d{4}-\d\d-\d\d \d\d:\d\d Asia/Tokyo", own_page)
    assert re.search(r"<dt>Created</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d Asia/Tokyo", own_page)

    other = await ready_campaign(db, [email_list.id], name="Late")
    await db.commit()
    past = editor.post(
        f"/campaigns/{other.id}/schedule", data={"scheduled_time": "2020-01-01T10:00", "timezone": "UTC"}
    )
    assert past.status_code == 422 and "Choose a time in the future, or send now." in past.text
    assert 'value="2020-01-01T10:00"' in past.text
    bad_zone = editor.post(
        f"/campaigns/{other.id}/schedule", data={"scheduled_time": f"{year}-01-01T10:00", "timezone": "Mars/Olympus"}
    )
    assert bad_zone.status_code == 422 and "Unknown time zone" in page_text(bad_zone)
    spring = max(date(year, 3, day) for day in range(25, 32) if date(year, 3, day).weekday() == 6)  # clocks go forward
    skipped = editor.post(
        f"/campaigns/{other.id}/schedule", data={"scheduled_time": f"{spring}T02:30", "timezone": "Europe/Madrid"}
    )
    assert skipped.status_code == 422, skipped.text  # not quietly 03:30
    assert f"{spring} 02:30 does not exist in Europe/Madrid: the clocks go forward then." in page_text(skipped)
    assert f'value="{spring}T02:30"' in skipped.text
    for server_files in ("localtime", "Factory"):  # zone files, but not zones anyone chooses
        odd = editor.post(
            f"/campaigns/{other.id}/schedule", data={"scheduled_time": f"{year}-01-01T10:00", "timezone": server_files}
        )
        assert odd.status_code == 422 and "Unknown time zone" in page_text(odd), server_files
    earliest = editor.post(
        f"/campaigns/{other.id}/schedule", data={"scheduled_time": "0001-01-01T00:00", "timezone": "Asia/Tokyo"}
    )
    assert earliest.status_code == 422 and "Choose a time in the future." in page_text(earliest)
    assert await status_of(db, other.id) == "draft"
    autumn = max(date(year, 10, day) for day in range(25, 32) if date(year, 10, day).weekday() == 6)  # clocks go back
    twice = editor.post(
        f"/campaigns/{other.id}/schedule",
        data={"scheduled_time": f"{autumn}T01:30", "timezone": "Europe/London"},
        follow_redirects=True,
    )
    assert f"for {autumn} 01:30 BST (Europe/London)" in page_text(twice), "the first of the two, and it says which"
    assert f"Scheduled for {autumn} 01:30 BST (Europe/London)" in page_text(editor.get(f"/campaigns/{other.id}"))
    assert (await fresh(db, other)).scheduled_at == datetime(autumn.year, autumn.month, autumn.day, 0, 30, tzinfo=UTC)


async def test_list_filters_by_status_pages_by_keyset_and_has_an_empty_state(staff, db):
    viewer = await staff("viewer")
    empty = page_text(viewer.get("/campaigns"))
    assert "No campaigns yet" in empty and "New campaign" not in empty
    await db.execute(
        text("""
        INSERT INTO campaigns (name, status, created_at)
        SELECT 'Campaign ' || i, CASE WHEN i % 2 = 0 THEN 'sent' ELSE 'draft' END, now() - make_interval(mins => i)
        FROM generate_series(1, 60) i""")
    )
    await db.commit()
    first = viewer.get("/campaigns")
    names = re.findall(r'<a href="/campaigns/\d+">(Campaign \d+)</a>', first.text)
    assert names[:2] == ["Campaign 1", "Campaign 2"] and len(names) == 50
    assert "a campaign's report counts people only, so its rates are lower" in page_text(first)  # not the same rates
    cursor = re.search(r'rel="next" href="/campaigns\?cursor=([^"]+)"', first.text).group(1)
    second = viewer.get(f"/campaigns?cursor={cursor}", headers={**HX, "HX-Target": "campaign-table"})
    assert second.text.lstrip().startswith('<div id="campaign-table">')
    assert re.findall(r'<a href="/campaigns/\d+">(Campaign \d+)</a>', second.text) == [
        f"Campaign {i}" for i in range(51, 61)
    ]
    sent = viewer.get("/campaigns?status=sent")
    sent_names = re.findall(r'<a href="/campaigns/\d+">(Campaign \d+)</a>', sent.text)
    assert len(sent_names) == 30 and all(int(n.split()[1]) % 2 == 0 for n in sent_names)
    assert viewer.get("/campaigns?status=nonsense&cursor=%%%").status_code == 200
    assert "No cancelled campaigns" in viewer.get("/campaigns?status=cancelled").text


async def test_deliveries_table_filters_by_status_and_pages(staff, db):
    viewer = await staff("viewer")
    email_list = await audience(db, 70)
    c = await ready_campaign(db, [email_list.id])
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status)
                             SELECT :c, id, email, CASE WHEN id % 10 = 0 THEN 'failed' ELSE 'sent' END
                             FROM contacts ORDER BY id"""),
        {"c": c.id},
    )
    c.status, c.materialised_at = "sending", datetime.now(UTC)
    await db.commit()
    page = viewer.get(f"/campaigns/{c.id}")
    assert page.text.count('<span class="badge delivery-') == 50
    cursor = re.search(r'rel="next" href="/campaigns/\d+\?cursor=([^"]+)"', page.text).group(1)
    rest = viewer.get(f"/campaigns/{c.id}/deliveries?cursor={cursor}")
    assert rest.text.count('<span class="badge delivery-') == 20 and 'rel="next"' not in rest.text
    failed = viewer.get(f"/campaigns/{c.id}/deliveries?delivery_status=failed")
    assert failed.text.count('<span class="badge delivery-failed">') == 7
    assert 'class="badge delivery-sent"' not in failed.text


async def test_viewers_get_403_on_every_campaign_post(staff, db):
    viewer = await staff("viewer")
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    await db.commit()
    posts = [
        "/campaigns/new",
        *(f"/campaigns/{c.id}/{step}" for step in ("details", "audience", "content", "settings")),
        *(
            f"/campaigns/{c.id}/{a}"
            for a in (
                "send",
                "pause",
                "resume",
                "cancel",
                "edit",
                "duplicate",
                "delete",
                "schedule",
                "audience/count",
                "content/preview",
                "review/test",
            )
        ),
    ]
    for path in posts:
        response = viewer.post(path, data={"name": "x", "scheduled_time": "2099-01-01T10:00"})
        assert response.status_code == 403 and "Your role (viewer) cannot do this" in response.text, path
    assert viewer.get(f"/campaigns/{c.id}/details").status_code == 403  # the wizard is a form for editors
    assert "Send now" not in viewer.get(f"/campaigns/{c.id}").text
    assert (await fresh(db, c)).status == "draft" and await db.scalar(select(text("count(*) FROM campaigns"))) == 1


async def test_bad_ids_are_not_found_never_a_server_error(staff, db):
    editor = await staff("editor")
    for path in (
        "/campaigns/99",
        "/campaigns/99999999999999999999999",
        "/campaigns/99/review",
        "/campaigns/99/events",
        "/campaigns/99/counters",
    ):
        assert editor.get(path).status_code == 404, path
    assert editor.post("/campaigns/99999999999999999999999/pause").status_code == 404


def test_scheduled_time_shows_in_the_campaign_zone():
    from webapp.core.template_helpers import in_zone

    moment = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
    assert in_zone(moment, "America/New_York") == "2030-01-15 04:00 America/New_York"
    assert in_zone(moment, "No/Such_Zone") == "2030-01-15 09:00 UTC"


async def test_odd_input_is_answered_with_messages_never_a_server_error(staff, db):
    editor = await staff("editor")
    c = Campaign(name="Odd")
    db.add(c)
    await db.commit()
    cases = [
        ("details", {"name": "x" * 5000, "from_email": "@@", "go": "next"}, "must be at most 200 characters"),
        ("audience", {"list_ids": ["-1", "1e9", "99999999999999999999"], "go": "next"}, "Choose at least one list"),
        ("content", {"template_id": "abc", "go": "template"}, "Choose a template from the list."),
        ("content", {"template_id": "99999999999999999999999", "go": "template"}, "does not exist"),
        ("content", {"html_content": "{% for %}", "go": "next"}, "Line 1:"),
        ("content", {"html_content": "<p>\x00</p>", "go": "next"}, "not allowed (NUL)"),
        ("schedule", {"scheduled_time": "9999-12-31T23:59", "timezone": "America/New_York"}, "year 9999 (UTC)"),
        ("schedule", {"scheduled_time": "soon", "timezone": "../../etc/passwd"}, "Unknown time zone"),
        ("review/test", {"recipients": "not an address, " * 20}, "not an address"),
    ]
    for path, data, message in cases:
        response = editor.post(f"/campaigns/{c.id}/{path}", data=data)
        assert response.status_code == 422 and message in page_text(response), (path, response.status_code)
    assert await status_of(db, c.id) == "draft"


async def test_every_code_box_says_how_to_leave_it_by_keyboard(staff, db):
    """Tab indents in a code box (static/js/editor.js): the way out is said under each one that takes typing."""
    editor, viewer = await staff("editor"), await staff("viewer")
    editor.post("/campaigns/new", data={"name": "Draft", "go": "next"})
    c = await db.scalar(select(Campaign))
    way_out = "Tab indents; press Esc then Tab to leave the editor."
    assert page_text(editor.get(f"/campaigns/{c.id}/content")).count(way_out) == 2  # HTML and Markdown
    assert page_text(editor.get("/templates/new")).count(way_out) == 2
    created = editor.post(
        "/templates", data={"name": "T", "subject": "S", "template_type": "marketing", "html_content": "<p>x</p>"}
    )
    assert created.status_code == 303, created.text
    shown = page_text(viewer.get(created.headers["location"]))
    assert 'id="html_content"' in shown and way_out not in shown, "read-only boxes take no typing"


async def test_the_engagement_counters_say_machines_are_in_them_and_where_people_are_counted(staff, db):
    c = await ready_campaign(db, [])
    await db.commit()
    viewer = await staff("viewer")
    draft = viewer.get(f"/campaigns/{c.id}").text
    assert "by machines too" in draft and f'href="/campaigns/{c.id}/report"' not in draft  # nothing to report yet
    c.status, c.started_at = "sent", datetime.now(UTC)
    await db.commit()
    sent = viewer.get(f"/campaigns/{c.id}").text
    assert re.search(rf'The <a href="/campaigns/{c.id}/report">report</a>\s+counts people only.', sent)


async def test_a_campaign_paused_before_its_recipients_were_listed_says_so_rather_than_none_to_go(db, staff):
    c = await ready_campaign(db, [(await audience(db, 3)).id])
    await db.execute(update(Campaign).where(Campaign.id == c.id).values(status="paused", started_at=datetime.now(UTC)))
    await db.commit()
    page = (await staff("viewer")).get(f"/campaigns/{c.id}").text
    assert "Paused before its recipients were listed: they are chosen when it resumes." in page
    assert "Paused with 0 messages to go" not in page
