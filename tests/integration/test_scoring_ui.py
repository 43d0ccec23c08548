"""The lead scoring pages against the real server: the scoring rules page (rules added, edited and
deleted with mistakes next to the fields, lifecycle thresholds, recalculating everyone), the
leaderboard with its filters, pages and lifecycle chart, and a contact's score, history, manual
stage and custom events on their page. (test_roles.py and test_csrf.py sweep these routes too.)"""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.support.scoring import contact
from webapp.contact_events import service as contact_events
from webapp.contact_events.service import NewEvent
from webapp.scoring import service as scoring
from webapp.scoring.models import ScoringRule
from webapp.scoring.service import settings


def rule_form(**changes: str) -> dict[str, str]:
    return {
        "name": "Purchase",
        "event": "custom",
        "event_name": "purchase",
        "points": "20",
        "daily_limit": "",
        "enabled": "yes",
        **changes,
    }


async def test_an_editor_adds_edits_and_deletes_rules_with_mistakes_next_to_the_fields(staff, db):
    editor = await staff("editor")
    refused = editor.post("/scoring/rules", data=rule_form(points="0"))
    assert refused.status_code == 422 and 'id="points-error"' in refused.text
    assert 'value="Purchase"' in refused.text  # what was typed stays
    unnamed = editor.post("/scoring/rules", data=rule_form(event_name=""))
    assert unnamed.status_code == 422 and 'id="event_name-error"' in unnamed.text
    assert editor.post("/scoring/rules", data=rule_form()).status_code == 303
    rule = await db.scalar(select(ScoringRule))
    assert (rule.name, rule.event_name, rule.points, rule.daily_limit, rule.enabled) == (
        "Purchase",
        "purchase",
        20,
        None,
        True,
    )
    page = editor.get("/scoring/rules")
    assert f'id="rule-{rule.id}"' in page.text and "+20" in page.text
    edit = editor.get(f"/scoring/rules/{rule.id}/edit")
    assert edit.status_code == 200 and 'value="purchase"' in edit.text
    wrong = editor.post(f"/scoring/rules/{rule.id}/edit", data=rule_form(daily_limit="0"))
    assert wrong.status_code == 422 and 'id="daily_limit-error"' in wrong.text
    assert re.search(r'<input type="checkbox" id="enabled"[^>]* checked', wrong.text)
    unticked = editor.post(f"/scoring/rules/{rule.id}/edit", data={**rule_form(points="abc"), "enabled": ""})
    assert unticked.status_code == 422 and 'id="points-error"' in unticked.text
    assert re.search(r'<input type="checkbox" id="enabled"[^>]*>', unticked.text)
    assert not re.search(r'<input type="checkbox" id="enabled"[^>]* checked', unticked.text)  # left unticked
    saved = editor.post(
        f"/scoring/rules/{rule.id}/edit", data={**rule_form(points="-5", daily_limit="2"), "enabled": ""}
    )
    assert saved.status_code == 303
    await db.refresh(rule)
    assert (rule.points, rule.daily_limit, rule.enabled) == (-5, 2, False)
    assert editor.post(f"/scoring/rules/{rule.id}/delete").status_code == 303
    assert editor.get(f"/scoring/rules/{rule.id}/edit").status_code == 404


async def test_thresholds_are_saved_in_order_and_everyone_can_be_recalculated(staff, db):
    editor = await staff("editor")
    bad = editor.post(
        "/scoring/rules/thresholds",
        data={"lead": "10", "mql": "5", "sql": "30", "customer": "40", "evangelist": "50"},
    )
    assert bad.status_code == 422 and 'id="mql-error"' in bad.text
    good = editor.post(
        "/scoring/rules/thresholds",
        data={"lead": "10", "mql": "20", "sql": "30", "customer": "40", "evangelist": "50"},
    )
    assert good.status_code == 303
    assert await settings.thresholds(db) == {"lead": 10, "mql": 20, "sql": 30, "customer": 40, "evangelist": 50}
    assert editor.post("/scoring/rules/recalculate", follow_redirects=True).status_code == 200
    viewer = await staff("viewer")
    page = viewer.get("/scoring/rules").text
    assert 'action="/scoring/rules"' not in page and "Recalculate every score" not in page


async def test_the_leaderboard_filters_pages_and_shows_the_lifecycle_chart(staff, db):
    ids = [await contact(db, f"c{i:02}@example.com") for i in range(55)]
    for i, contact_id in enumerate(ids):
        await scoring.add_points(db, [contact_id], i * 2, "test")
    await db.commit()
    viewer = await staff("viewer")
    first = viewer.get("/scoring")
    assert first.status_code == 200 and 'id="lifecycle-distribution"' in first.text
    assert first.text.index("c54@example.com") < first.text.index("c53@example.com")
    assert "c00@example.com" not in first.text and 'rel="next"' in first.text
    next_url = first.text.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = viewer.get(next_url, headers={"HX-Request": "true", "HX-Target": "leaderboard-results"})
    assert 'id="leaderboard-results"' in second.text
    assert "c00@example.com" in second.text and "<html" not in second.text
    graded = viewer.get("/scoring", params={"grade": "A+"}).text
    assert "c54@example.com" in graded and "c44@example.com" not in graded  # 108 and 88 points


async def test_a_contact_page_shows_score_history_events_and_takes_a_manual_stage(staff, db):
    ada = await contact(db, "ada@example.com", first_name="Ada")
    await scoring.add_points(db, [ada], 30, "Webinar <attended>")
    await contact_events.record(db, [NewEvent(ada, "purchase", {"sku": "<b>B-7</b>"})])
    await db.commit()
    editor = await staff("editor")
    page = editor.get(f"/contacts/{ada}").text
    assert 'id="contact-score-value">53<' in page and 'id="contact-grade">C<' in page
    assert "Webinar &lt;attended&gt;" in page and "<b>" not in page  # escaped
    assert "&lt;b&gt;B-7" in page and "\\u003c" not in page  # the properties as text to read, escaped
    assert editor.post(f"/scoring/contacts/{ada}/stage", data={"stage": "customer"}).status_code == 303
    page = editor.get(f"/contacts/{ada}").text
    assert 'id="contact-stage">Customer<' in page and "(set by hand)" in page
    editor.post(f"/scoring/contacts/{ada}/stage", data={"stage": ""})
    assert 'id="contact-stage">MQL<' in editor.get(f"/contacts/{ada}").text
    viewer = await staff("viewer")
    assert 'id="contact-stage-form"' not in viewer.get(f"/contacts/{ada}").text
