"""The wizard's A/B test step against the real server: a draft becomes a test through the form,
rows are added and removed by submit buttons (no JavaScript), a mistake shows next to its row's
field with everything typed kept, the review step summarises the test, removing it makes a plain
campaign again, and viewers cannot change it."""

from __future__ import annotations

import html
import re

from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign
from webapp.abtests import service as abtests

SETTINGS = {"test_percent": "30", "wait_minutes": "120", "criterion": "clicks", "confidence_level": "90"}


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.text))


def form(*rows: dict[str, str], control: int = 0, **settings: str) -> dict[str, str]:
    data = {"control": str(control), "fallback": "leader", **SETTINGS, **settings, "go": "save"}
    for index, row in enumerate(rows):
        data |= {f"variants.{index}.{name}": value for name, value in row.items()}
    return data


async def test_a_draft_becomes_an_ab_test_through_the_form_and_back(staff, db):
    editor = await staff("editor")
    c = await ready_campaign(db, [])
    await db.commit()

    step = editor.get(f"/campaigns/{c.id}/ab-test")
    assert step.status_code == 200, step.text[-3000:]
    assert 'name="variants.0.label" type="text" value="A"' in step.text
    assert 'name="variants.1.label" type="text" value="B"' in step.text
    assert "variants.2.label" not in step.text

    added = editor.post(
        f"/campaigns/{c.id}/ab-test", data=form({"label": "A"}, {"label": "B", "subject": "Typed"}) | {"go": "add"}
    )
    assert added.status_code == 200
    assert 'value="Typed"' in added.text and 'name="variants.2.label" type="text" value="C"' in added.text
    assert await abtests.test_of_campaign(db, c.id) is None  # adding a row saves nothing

    removed = editor.post(
        f"/campaigns/{c.id}/ab-test",
        data=form({"label": "A"}, {"label": "B", "subject": "Typed"}, {"label": "C"}) | {"go": "remove-1"},
    )
    assert "Typed" not in removed.text and 'name="variants.1.label" type="text" value="C"' in removed.text

    saved = editor.post(
        f"/campaigns/{c.id}/ab-test",
        data=form(
            {"label": "Plain"}, {"label": "Bold", "subject": "Last chance!"}, {"label": "Short", "preheader": "2 days"}
        ),
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/campaigns/{c.id}/review"
    test, variants = await abtests.test_of_campaign(db, c.id)
    assert (test.test_percent, test.wait_minutes, test.criterion, test.confidence_level, test.fallback) == (
        30,
        120,
        "clicks",
        90,
        "leader",
    )
    assert [(v.label, v.is_control, v.subject, v.preheader) for v in variants] == [
        ("Plain", True, None, None),
        ("Bold", False, "Last chance!", None),
        ("Short", False, None, "2 days"),
    ]

    review = page_text(editor.get(f"/campaigns/{c.id}/review"))
    assert "3 variants: Plain (control), Bold, Short;" in review
    assert "Start the A/B test right away: 30 % of " in review and "the winner after 120 minutes" in review
    assert "Start sending to" not in review  # not to everyone at once
    review_html = editor.get(f"/campaigns/{c.id}/review").text
    assert f'href="/campaigns/{c.id}/ab-test">Change<span class="visually-hidden"> A/B test</span>' in review_html

    again = editor.get(f"/campaigns/{c.id}/ab-test")  # the saved test, ready to change
    assert 'value="Last chance!"' in again.text and "Remove the A/B test" in again.text
    changed = editor.post(f"/campaigns/{c.id}/ab-test", data=form({"label": "A"}, {"label": "B", "subject": "New"}))
    assert changed.status_code == 303
    _, variants = await abtests.test_of_campaign(db, c.id)
    assert [(v.label, v.subject) for v in variants] == [("A", None), ("B", "New")]

    manual = form({"label": "A"}, {"label": "B", "subject": "New"}, criterion="manual")
    assert editor.post(f"/campaigns/{c.id}/ab-test", data=manual).status_code == 303
    reviewed = editor.get(f"/campaigns/{c.id}/review")
    review, review_html = page_text(reviewed), reviewed.text
    assert "30 % of the audience; you choose the winner once they have it, and the rest waits for your choice" in review
    assert "confidence" not in review and "after 120 minutes" not in review  # what a person's choice ignores
    assert "the rest the winner you choose on its report." in review
    assert "the rest get the winner you choose on its report." in html.unescape(review_html)  # Send now's question

    gone = editor.post(f"/campaigns/{c.id}/ab-test/delete")
    assert gone.status_code == 303 and gone.headers["location"] == f"/campaigns/{c.id}/review"
    assert await abtests.test_of_campaign(db, c.id) is None


async def test_a_mistake_shows_next_to_its_rows_field_with_what_was_typed_kept(staff, db):
    editor = await staff("editor")
    c = await ready_campaign(db, [])
    await db.commit()
    response = editor.post(
        f"/campaigns/{c.id}/ab-test",
        data=form(
            {"label": "A", "subject": "Mine"},
            {"label": "B", "subject": "{{ broken"},
            {"label": "C"},
            control=0,
            test_percent="70",
        ),
    )
    assert response.status_code == 422
    field = re.search(r'<div class="field invalid" id="variants-1-subject-field">.*?</div>', response.text, re.S)
    assert field and 'value="{{ broken"' in html.unescape(field.group(0)) and "field-error" in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert re.search(r'id="test_percent-error">Test share must be between 1 and 50', response.text)
    assert 'value="Mine"' in response.text and 'value="70"' in response.text

    response = editor.post(  # the fields right, a row that changes nothing: said at the row
        f"/campaigns/{c.id}/ab-test", data=form({"label": "A"}, {"label": "B", "subject": "Mine"}, {"label": "C"})
    )
    assert response.status_code == 422
    assert re.search(r'id="variant-2-error"[^>]*>Variant C changes nothing', response.text)
    assert 'aria-describedby="variant-2-error"' in response.text
    assert await abtests.test_of_campaign(db, c.id) is None

    both = editor.post(  # a setting wrong too: both said at once, not one save after the other
        f"/campaigns/{c.id}/ab-test", data=form({"label": "A"}, {"label": "B"}, test_percent="70")
    )
    assert re.search(r'id="variant-1-error"[^>]*>Variant B changes nothing', both.text)
    assert re.search(r'id="test_percent-error">Test share must be between 1 and 50', both.text)

    nine = [{"label": f"V{i}", "subject": f"Subject {i}"} for i in range(9)]  # a page offers 8 at most
    too_many = editor.post(f"/campaigns/{c.id}/ab-test", data=form(*nine))
    assert too_many.status_code == 422 and 'id="variants-error" role="alert">An A/B test has 2 to 8 variants.' in (
        too_many.text
    )
    assert 'value="Subject 8"' in too_many.text  # the ninth is shown, not dropped
    adding = editor.post(f"/campaigns/{c.id}/ab-test", data={**form(*nine[:8]), "go": "add"})
    assert adding.status_code == 422 and "An A/B test has 2 to 8 variants." in adding.text
    assert await abtests.test_of_campaign(db, c.id) is None


async def test_viewers_cannot_change_an_ab_test(staff, db):
    viewer = await staff("viewer")
    c = await ready_campaign(db, [])
    await db.commit()
    assert viewer.get(f"/campaigns/{c.id}/ab-test").status_code == 403
    refused = viewer.post(f"/campaigns/{c.id}/ab-test", data=form({"label": "A"}, {"label": "B", "subject": "x"}))
    assert refused.status_code == 403
    assert viewer.post(f"/campaigns/{c.id}/ab-test/delete").status_code == 403
    assert await abtests.test_of_campaign(db, c.id) is None


async def test_the_report_shows_each_variants_rate_interval_and_the_decision(staff, db):
    viewer = await staff("viewer")
    c = await ready_campaign(db, [])
    await db.commit()
    await abtests.save_test(
        db, c.id, {"variants": [{"label": "Plain"}, {"label": "Bold", "subject": "Last chance!"}], "fallback": "leader"}
    )
    report = viewer.get(f"/campaigns/{c.id}/report")
    assert report.status_code == 200
    section = page_text(report).split('id="report-ab-test"', 1)[1]
    assert "draft" in section and "else the leader" in section
    assert 'Unique human opens <span class="muted">(the winner criterion)' in section and "Unique clicks" in section
    assert "No variant is significantly better" in section  # decide()'s reason, nobody sent yet
    assert re.search(
        r'Plain <span class="muted">control</span></th><td>0</td> <td>0</td><td>0\.0%</td><td>0\.0% to 100\.0%</td>',
        section,
    )


async def test_the_campaign_page_shows_each_variants_subject_and_which_went_to_the_rest(staff, db):
    viewer = await staff("viewer")
    c = await ready_campaign(db, [], subject="Our news")
    await db.commit()
    test = await abtests.save_test(
        db, c.id, {"variants": [{"label": "Plain"}, {"label": "Bold", "subject": "Last chance!"}]}
    )
    details = page_text(viewer.get(f"/campaigns/{c.id}")).split("<h2>Details</h2>", 1)[1]
    assert '<strong>Plain</strong> Our news <span class="muted">(control)</span>' in details
    assert "<strong>Bold</strong> Last chance!</li>" in details and "A/B test results" not in details  # a draft's

    bold = (await abtests.variants_of(db, [test.id]))[test.id][1]
    await db.execute(
        text("UPDATE ab_tests SET status = 'sent', chosen_variant_id = :v WHERE id = :t"), {"v": bold.id, "t": test.id}
    )
    await db.commit()
    details = page_text(viewer.get(f"/campaigns/{c.id}")).split("<h2>Details</h2>", 1)[1]
    assert '<strong>Bold</strong> Last chance! <span class="badge ok">sent to the rest</span>' in details
    assert f'href="/campaigns/{c.id}/report#report-ab-test">A/B test results' in details


async def test_while_the_test_runs_its_section_reloads_itself_with_the_latest_figures(staff, db):
    viewer = await staff("viewer")
    c = await ready_campaign(db, [])
    test = await abtests.save_test(db, c.id, {"variants": [{"label": "Plain"}, {"label": "Bold", "subject": "Now!"}]})
    await db.commit()
    live = f'hx-get="/campaigns/{c.id}/report/ab-test" hx-trigger="every 10s"'
    assert live not in viewer.get(f"/campaigns/{c.id}/report").text  # a draft has no figures to follow

    await db.execute(text("UPDATE ab_tests SET status = 'waiting' WHERE id = :t"), {"t": test.id})
    await db.commit()
    assert live in viewer.get(f"/campaigns/{c.id}/report").text
    section = viewer.get(f"/campaigns/{c.id}/report/ab-test")
    assert section.status_code == 200 and section.text.lstrip().startswith('<section class="card" id="report-ab-test"')
    assert live in section.text and "Plain" in section.text and "<html" not in section.text

    await db.execute(text("UPDATE ab_tests SET status = 'sent' WHERE id = :t"), {"t": test.id})
    await db.commit()
    assert live not in viewer.get(f"/campaigns/{c.id}/report/ab-test").text  # decided: nothing more to follow
    plain = await ready_campaign(db, [])
    await db.commit()
    assert viewer.get(f"/campaigns/{plain.id}/report/ab-test").status_code == 404


async def test_a_duplicate_is_the_same_ab_test_again_without_its_results(staff, api, db):
    editor = await staff("editor")
    c = await ready_campaign(db, [])
    await db.commit()
    rows = ({"label": "Plain", "preheader": "Hello"}, {"label": "Bold", "subject": "Last chance!"})
    test_form = form(*rows, control=1, criterion="manual")
    assert editor.post(f"/campaigns/{c.id}/ab-test", data=test_form).status_code == 303
    c.status = "sent"  # and its test decided: the copy starts afresh
    await db.execute(
        text("UPDATE ab_tests SET status = 'sent', test_sent_at = now() WHERE campaign_id = :c"), {"c": c.id}
    )
    await db.commit()

    response = editor.post(f"/campaigns/{c.id}/duplicate")
    copy_id = int(response.headers["location"].split("/")[2])
    details = page_text(editor.get(response.headers["location"]))
    assert "as a draft with the same content, lists and A/B test." in details
    test, variants = await abtests.test_of_campaign(db, copy_id)
    assert (test.status, test.test_sent_at, test.criterion, test.test_percent) == ("draft", None, "manual", 30)
    assert [(v.label, v.is_control, v.subject, v.preheader) for v in variants] == [
        ("Plain", False, None, "Hello"),
        ("Bold", True, "Last chance!", None),
    ]

    through_api = (await api("editor")).post(f"/api/campaigns/{c.id}/duplicate").json()
    assert [(v["label"], v["subject"]) for v in through_api["variants"]] == [("Plain", None), ("Bold", "Last chance!")]
    plain = await ready_campaign(db, [])
    await db.commit()
    response = editor.post(f"/campaigns/{plain.id}/duplicate")
    assert "as a draft with the same content and lists." in page_text(editor.get(response.headers["location"]))


async def test_the_review_warns_when_the_audience_is_smaller_than_the_variants(staff, db):
    editor = await staff("editor")
    c = await ready_campaign(db, [(await audience(db, 3)).id])
    await db.commit()
    variants = [{"label": "A"}, {"label": "B", "subject": "b"}, {"label": "C", "subject": "c"}]
    assert editor.post(f"/campaigns/{c.id}/ab-test", data=form(*variants)).status_code == 303
    assert "smaller than the A/B test" not in page_text(editor.get(f"/campaigns/{c.id}/review"))

    four = [*variants, {"label": "D", "subject": "d"}]
    assert editor.post(f"/campaigns/{c.id}/ab-test", data=form(*four)).status_code == 303
    review = page_text(editor.get(f"/campaigns/{c.id}/review"))
    assert "The audience (3) is smaller than the A/B test's 4 variants: D would get nobody" in review
