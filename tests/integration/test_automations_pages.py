"""The automation pages over HTTP (real server and PostgreSQL): a trigger saved with only its own
kind's parameters, a missing one named next to its field with what was typed kept, the rules
builder answering HTMX with the rules alone, the builder's counts, the enrolments filtered by
status, and viewers who see everything and change nothing."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select, text

from tests.integration.test_automations_engine import run
from tests.support.automation_mail import email_template
from tests.support.automations import new_contacts, published
from webapp.automations.models import Automation
from webapp.automations.service import automations, enrolments
from webapp.settings.service import organisation as org_settings

HX = {"HX-Request": "true"}
FLOW = [
    {"id": "hello", "type": "tag", "tags": ["welcomed"]},
    {"id": "pause", "type": "wait", "duration": {"days": 2}},
]
VIP = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}
BRANCHED = [{"id": "vip", "type": "condition", "rules": VIP, "yes": [{"id": "thank", "type": "tag", "tags": ["t"]}]}]


async def test_a_trigger_is_saved_with_only_its_own_kinds_parameters(staff, db):
    editor = await staff("editor")
    form = {
        "name": "Birthday",
        "trigger.kind": "date_field",
        "trigger.field": "custom.birthday",
        "trigger.offset_days": "-7",
        "trigger.yearly": "yes",
        "trigger.tag": "left over from another kind",
        "reentry": "every_n_days",
        "reentry_days": "300",
    }
    response = editor.post("/automations", data=form)
    assert response.status_code == 303
    saved = await db.get(Automation, int(response.headers["location"].rsplit("/", 1)[1]))
    assert saved.trigger == {"kind": "date_field", "field": "custom.birthday", "offset_days": -7, "yearly": True}
    assert (saved.reentry, saved.reentry_days) == ("every_n_days", 300)
    page = editor.get(f"/automations/{saved.id}").text
    assert "7 days before their birthday, every year" in page


async def test_a_missing_trigger_parameter_is_named_next_to_its_field_and_what_was_typed_stays(staff):
    editor = await staff("editor")
    response = editor.post("/automations", data={"name": "VIPs", "trigger.kind": "tag_added", "trigger.tag": " "})
    assert response.status_code == 422
    assert '<p class="field-error" id="trigger-tag-error">Enter the tag.</p>' in response.text
    assert 'name="name" type="text" value="VIPs"' in response.text
    assert '<option value="tag_added" selected>' in response.text
    assert '<option value="mql">MQL</option>' in response.text  # stages named as the contact page names them


async def test_every_n_days_without_the_days_is_refused_next_to_the_field(staff, db):
    editor = await staff("editor")
    form = {"name": "Again", "trigger.kind": "manual", "reentry": "every_n_days", "reentry_days": " "}
    response = editor.post("/automations", data=form)
    assert response.status_code == 422
    assert '<p class="field-error" id="reentry_days-error">Re-entry days must be a whole number.</p>' in response.text
    assert await db.scalar(select(func.count()).select_from(Automation)) == 0


async def test_the_rules_builder_answers_htmx_with_the_rules_alone_and_a_browser_with_the_page(staff, db):
    automation_id = await published(db, FLOW)
    editor = await staff("editor")
    form = {"mode": "new", "at": "after:hello", "type": "condition", "g-0-operator": "AND", "action": "add-condition:0"}
    partial = editor.post(f"/automations/{automation_id}/steps/rules", data=form, headers=HX)
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="segment-rules"')
    assert 'id="c-0.0-field"' in partial.text and "autofocus" in partial.text  # the new row, focused
    whole = editor.post(f"/automations/{automation_id}/steps/rules", data=form)
    assert "<html" in whole.text and 'id="c-0.0-field"' in whole.text
    assert '<option value="condition" selected>' in whole.text  # the form as it was typed, open in its slot


async def test_the_builder_counts_the_contacts_waiting_on_each_step_and_through_it(staff, db):
    automation_id = await published(db, FLOW)
    contacts = await new_contacts(db, 3)
    await enrolments.enrol(db, automation_id, contacts)
    # One of them has been through the tag and waits.
    await db.execute(
        text("UPDATE automation_enrolments SET step_id = 'pause' WHERE contact_id = :c"), {"c": contacts[0]}
    )
    await db.execute(
        text("""INSERT INTO automation_step_runs (enrolment_id, step_id, outcome)
                SELECT id, 'hello', 'done' FROM automation_enrolments WHERE contact_id = :c"""),
        {"c": contacts[0]},
    )
    await db.commit()
    viewer = await staff("viewer")
    page = viewer.get(f"/automations/{automation_id}").text
    hello, pause = page.split('id="step-hello"')[1].split('id="step-pause"')
    assert "<dt>Waiting</dt><dd>2</dd>" in hello and "<dt>Done</dt><dd>1</dd>" in hello
    assert "<dt>Waiting</dt><dd>1</dd>" in pause and "<dt>Done</dt><dd>0</dd>" in pause
    assert "3 enrolled, 3 in it now" in page


async def test_a_condition_says_how_many_went_down_each_branch_and_a_step_how_many_left_from_it(staff, db):
    automation_id = await published(db, BRANCHED)
    contacts = await new_contacts(db, 3)
    await enrolments.enrol(db, automation_id, contacts)
    await db.execute(
        text("""INSERT INTO automation_step_runs (enrolment_id, step_id, outcome)
                SELECT id, 'vip', CASE WHEN contact_id = :c THEN 'branched_yes' ELSE 'branched_no' END
                FROM automation_enrolments"""),
        {"c": contacts[0]},
    )
    await db.execute(
        text("UPDATE automation_enrolments SET step_id = 'thank' WHERE contact_id = :c"), {"c": contacts[0]}
    )
    await enrolments.remove(db, automation_id, contacts[:1])
    await db.commit()
    editor = await staff("editor")
    page = editor.get(f"/automations/{automation_id}").text
    assert 'Yes <span class="muted">· 1 went this way</span>' in page
    assert 'No <span class="muted">· 2 went this way</span>' in page
    thank = page.split('id="step-thank"')[1]
    assert "<dt>Exited</dt><dd>1</dd>" in thank


async def test_the_enrolments_are_listed_by_status(staff, db):
    automation_id = await published(db, FLOW)
    contacts = await new_contacts(db, 2, prefix="member")
    await enrolments.enrol(db, automation_id, contacts)
    await enrolments.remove(db, automation_id, contacts[:1])
    await db.commit()
    viewer = await staff("viewer")
    removed = viewer.get(f"/automations/{automation_id}/enrolments?status=removed").text
    assert "member1@example.com" in removed and "member2@example.com" not in removed
    everyone = viewer.get(f"/automations/{automation_id}/enrolments").text
    assert "member1@example.com" in everyone and "member2@example.com" in everyone
    assert "Tag with welcomed" in everyone  # the current step, in words


async def test_a_viewer_sees_the_builder_without_its_controls_and_cannot_open_a_form(staff, db):
    automation_id = await published(db, FLOW)
    viewer = await staff("viewer")
    page = viewer.get(f"/automations/{automation_id}").text
    assert "Tag with welcomed" in page and "Wait 2 days" in page
    assert "+ Add a step" not in page and ">Edit<" not in page and "Pause" not in page
    assert viewer.get(f"/automations/{automation_id}/steps/new?at=start").status_code == 403
    assert viewer.get("/automations/new").status_code == 403
    assert "New automation" not in viewer.get("/automations").text


async def test_a_conditions_rule_error_is_shown_on_its_row_and_the_step_is_not_added(staff, db):
    automation_id = await published(db, FLOW)
    editor = await staff("editor")
    form = {
        "at": "after:hello",
        "mode": "new",
        "type": "condition",
        "g-0-operator": "AND",
        "c-0.0-field": "company",
        "c-0.0-op": "eq",
        "c-0.0-input": "text",
        "c-0.0-value": "",
    }
    response = editor.post(f"/automations/{automation_id}/steps", data=form, headers=HX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form class="step-form choosing"')  # the form alone, in its slot
    assert '<p class="field-error seg-error" id="c-0.0-error">Enter a value.</p>' in response.text
    assert '<option value="company" selected>' in response.text
    page = editor.get(f"/automations/{automation_id}").text
    assert "type-condition" not in page
    no_rules = {"at": "after:hello", "mode": "new", "type": "condition", "g-0-operator": "AND"}
    response = editor.post(f"/automations/{automation_id}/steps", data=no_rules, headers=HX)
    assert response.status_code == 422
    assert 'id="step-rules-error" role="alert">Add at least one condition: with none, every contact matches.' in (
        response.text
    )


async def test_a_skip_rule_is_saved_on_its_step_and_cleared_by_removing_its_conditions(staff, db):
    automation_id = await published(db, FLOW)
    editor = await staff("editor")
    rule = {"g-0-operator": "AND", "c-0.0-field": "tags", "c-0.0-op": "has_any", "c-0.0-input": "tags"}
    refused = editor.post(f"/automations/{automation_id}/steps/hello/skip-if", data=rule | {"c-0.0-value": ""})
    assert refused.status_code == 422
    assert '<p class="field-error seg-error" id="c-0.0-error">Choose at least one value.</p>' in refused.text
    response = editor.post(f"/automations/{automation_id}/steps/hello/skip-if", data=rule | {"c-0.0-value": "vip"})
    assert response.status_code == 303 and response.headers["location"].endswith("#step-hello")
    page = editor.get(f"/automations/{automation_id}").text
    assert "Skipped for contacts where Tags has any of vip" in page
    assert "Unpublished changes (version 2)" in page  # the live version is untouched until published
    editor.post(f"/automations/{automation_id}/steps/hello/skip-if", data={"g-0-operator": "AND"})
    assert "Skipped for contacts" not in editor.get(f"/automations/{automation_id}").text


async def test_pause_and_resume_and_a_draft_that_cannot_be_paused_says_why(staff, db):
    automation_id = await published(db, FLOW)
    editor = await staff("editor")
    assert editor.post(f"/automations/{automation_id}/pause").status_code == 303
    page = editor.get(f"/automations/{automation_id}").text
    assert '<span class="badge paused">paused</span>' in page and ">Resume</button>" in page
    assert editor.post(f"/automations/{automation_id}/resume").status_code == 303
    assert ">Pause</button>" in editor.get(f"/automations/{automation_id}").text

    draft = editor.post("/automations", data={"name": "Later", "trigger.kind": "manual"})
    draft_id = int(draft.headers["location"].rsplit("/", 1)[1])
    refused = editor.post(f"/automations/{draft_id}/pause")
    assert refused.status_code == 409
    assert "This automation is draft; only an active one can be paused." in refused.text
    assert "only a paused one can be active." in editor.post(f"/automations/{draft_id}/resume").text


async def test_an_archived_automation_is_shown_without_any_control(staff, db):
    automation_id = await published(db, FLOW)
    await enrolments.enrol(db, automation_id, await new_contacts(db, 2))
    await db.commit()
    editor = await staff("editor")
    assert editor.post(f"/automations/{automation_id}/archive").status_code == 303
    page = editor.get(f"/automations/{automation_id}").text
    assert '<span class="badge archived">archived</span>' in page and "0 in it now" in page
    assert "+ Add a step" not in page and ">Edit<" not in page and "Publish" not in page and "Archive<" not in page
    refused = editor.post(f"/automations/{automation_id}/steps/hello/delete")
    assert refused.status_code == 409


async def test_the_list_pages_by_fifty_with_each_automations_trigger_and_counts(staff, db):
    for number in range(51):
        await automations.create(db, {"name": f"Flow {number}", "trigger": {"kind": "tag_added", "tag": f"t{number}"}})
    await db.commit()
    viewer = await staff("viewer")
    first = viewer.get("/automations").text
    assert first.count('<tr id="automation-') == 50
    assert "Flow 50" in first and "Gets the tag “t50”" in first and "Flow 0<" not in first
    next_page = re.search(r'href="(/automations\?cursor=[^"]+)"', first)[1]
    second = viewer.get(html.unescape(next_page)).text
    assert second.count('<tr id="automation-') == 1 and "Flow 0<" in second


async def test_the_settings_form_shows_the_saved_trigger_and_saves_changes(staff, db):
    automation = await automations.create(
        db,
        {"name": "Birthdays", "trigger": {"kind": "date_field", "field": "custom.birthday", "yearly": True}},
    )
    await db.commit()
    editor = await staff("editor")
    form = editor.get(f"/automations/{automation.id}/settings").text
    assert '<option value="date_field" selected>' in form
    assert 'id="trigger-field" name="trigger.field" type="text" value="custom.birthday"' in form
    assert 'id="trigger-yearly" name="trigger.yearly" value="yes" checked' in form
    saved = editor.post(
        f"/automations/{automation.id}/settings",
        data={"name": "Renewals", "trigger.kind": "custom_event", "trigger.name": "renewal_due", "reentry": "always"},
    )
    assert saved.status_code == 303
    await db.refresh(automation)
    assert (automation.name, automation.trigger, automation.reentry) == (
        "Renewals",
        {"kind": "custom_event", "name": "renewal_due"},
        "always",
    )


async def test_an_editor_enrols_a_contact_by_email_and_takes_one_out(staff, db):
    automation_id = await published(db, FLOW)
    await new_contacts(db, 1, prefix="ada")
    await db.commit()
    editor = await staff("editor")
    unknown = editor.post(f"/automations/{automation_id}/enrolments", data={"email": "nobody@example.com"})
    assert unknown.status_code == 422
    assert '<p class="field-error" id="email-error">No contact has this email address.</p>' in unknown.text
    assert 'value="nobody@example.com"' in unknown.text
    assert (
        editor.post(f"/automations/{automation_id}/enrolments", data={"email": "ada1@example.com"}).status_code == 303
    )
    listed = editor.get(f"/automations/{automation_id}/enrolments").text
    assert "Enrolled ada1@example.com." in listed and '<span class="badge active">active</span>' in listed
    again = editor.post(f"/automations/{automation_id}/enrolments", data={"email": "ada1@example.com"})
    assert "ada1@example.com was not enrolled" in editor.get(again.headers["location"]).text
    contact_id = (await db.execute(text("SELECT id FROM contacts WHERE email = 'ada1@example.com'"))).scalar()
    assert editor.post(f"/automations/{automation_id}/enrolments/{contact_id}/remove").status_code == 303
    assert '<span class="badge removed">removed</span>' in editor.get(f"/automations/{automation_id}/enrolments").text
    viewer = await staff("viewer")
    assert "Enrol a contact" not in viewer.get(f"/automations/{automation_id}/enrolments").text


async def test_an_edit_refused_comes_back_as_its_step_with_the_form_and_a_saved_one_as_its_summary(staff, db):
    automation_id = await published(db, FLOW)
    editor = await staff("editor")
    url = f"/automations/{automation_id}/steps/hello"
    refused = editor.post(url, data={"mode": "edit", "step_id": "hello", "tags": " , "}, headers=HX)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<li class="flow-step type-tag" id="step-hello">')
    assert '<p class="field-error" id="tags-error">Enter at least one tag.</p>' in refused.text
    saved = editor.post(url, data={"mode": "edit", "step_id": "hello", "tags": "hello, new"}, headers=HX)
    assert saved.status_code == 200
    assert "Tag with hello, new" in saved.text and 'id="step-form"' not in saved.text
    assert 'id="publish-card" hx-swap-oob="true"' in saved.text  # the draft's card appears with it


async def test_without_htmx_a_rules_button_in_an_edit_or_skip_form_reopens_that_form_as_typed(staff, db):
    automation_id = await published(db, BRANCHED)
    editor = await staff("editor")
    typed = {"g-0-operator": "OR", "c-0.0-field": "tags", "c-0.0-op": "has_any", "c-0.0-input": "tags"}
    edit = editor.post(
        f"/automations/{automation_id}/steps/rules",
        data=typed | {"c-0.0-value": "gold", "mode": "edit", "step_id": "vip", "action": "add-condition:0"},
    )
    form = edit.text.split('id="step-form"')[1].split("</form>")[0]
    assert 'id="c-0.1-field"' in form and 'value="gold"' in form and '<option value="OR" selected>' in form
    assert f'action="/automations/{automation_id}/steps/vip"' in edit.text
    skip = editor.post(
        f"/automations/{automation_id}/steps/rules",
        data=typed | {"mode": "skip", "step_id": "thank", "action": "remove:0.0"},
    )
    assert (
        f'action="/automations/{automation_id}/steps/thank/skip-if"' in skip.text
        and 'id="c-0.0-field"' not in skip.text
    )


async def test_a_contacts_page_lists_the_automations_it_is_in_or_went_through(staff, db):
    viewer = await staff("viewer")
    (contact_id,) = await new_contacts(db, 1)
    welcome = await published(db, FLOW, name="Welcome <series>")
    onboarding = await published(db, FLOW, name="Onboarding")
    await enrolments.enrol(db, welcome, [contact_id])
    await enrolments.enrol(db, onboarding, [contact_id])
    await enrolments.remove(db, onboarding, [contact_id])
    await db.commit()

    section = viewer.get(f"/contacts/{contact_id}").text.split('id="contact-automations"', 1)[1].split("</section>")[0]
    rows = re.findall(r'<a href="/automations/(\d+)">([^<]+)</a></td>\s*<td><span class="badge (\w+)">', section)
    assert rows == [(str(onboarding), "Onboarding", "removed"), (str(welcome), "Welcome &lt;series&gt;", "active")]

    (stranger,) = await new_contacts(db, 1, prefix="s")
    await db.commit()
    assert "Not in any automation yet." in viewer.get(f"/contacts/{stranger}").text


async def test_an_email_steps_subject_that_cannot_render_is_refused_next_to_the_field(staff, db):
    automation_id = await published(db, FLOW)
    template_id = await email_template(db)
    await db.commit()
    editor = await staff("editor")
    form = {"at": "after:hello", "mode": "new", "type": "send_email", "template_id": str(template_id)}
    response = editor.post(f"/automations/{automation_id}/steps", data=form | {"subject": "Hi {{ 1 / 0 }}"}, headers=HX)
    assert response.status_code == 422
    assert re.search(r'id="[\w-]*subject-error"[^>]*>Line 1: The template failed: division by zero<', response.text)
    assert 'value="Hi {{ 1 / 0 }}"' in response.text
    assert editor.post(f"/automations/{automation_id}/steps", data=form, headers=HX).status_code == 200


async def test_the_publish_card_names_what_the_organisation_lacks_before_email_steps_can_send(staff, db):
    template_id = await email_template(db)
    await org_settings.save(db, org_settings.OrgSettings())
    email = {"id": "mail", "type": "send_email", "template_id": template_id}
    emailing = await automations.create(db, {"name": "Emails", "trigger": {"kind": "manual"}, "steps": [email]})
    tagging = await automations.create(
        db, {"name": "Tags", "trigger": {"kind": "manual"}, "steps": [{"type": "tag", "tags": ["x"]}]}
    )
    await db.commit()
    editor = await staff("editor")

    card = editor.get(f"/automations/{emailing.id}").text.split('id="publish-card"')[1].split("</form>")[0]
    assert "cannot send until Settings → Organisation is complete" in html.unescape(card)
    assert "default From address, which is not set" in html.unescape(card)
    assert "publish-sender-missing" not in editor.get(f"/automations/{tagging.id}").text

    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Acme", postal_address="1 Main St", default_from_email="news@acme.example"
        ),
    )
    await db.commit()
    assert "publish-sender-missing" not in editor.get(f"/automations/{emailing.id}").text


async def test_the_header_says_a_paused_or_archived_automation_is_not_live(staff, db):
    automation_id = await published(db, FLOW)
    viewer = await staff("viewer")
    assert "Version 1 is live" in viewer.get(f"/automations/{automation_id}").text
    await automations.pause(db, automation_id)
    await db.commit()
    assert "Version 1, paused" in viewer.get(f"/automations/{automation_id}").text
    await automations.archive(db, automation_id)
    await db.commit()
    header = viewer.get(f"/automations/{automation_id}").text
    assert "Archived on version 1" in header and "is live" not in header


async def test_a_waits_done_counts_only_those_whose_wait_is_over(staff, db):
    automation_id = await published(db, [{"id": "wait", "type": "wait", "duration": {"days": 1}}])
    contact_ids = await new_contacts(db, 3)
    await enrolments.enrol(db, automation_id, contact_ids)
    await db.commit()
    await run(db)
    await enrolments.remove(db, automation_id, contact_ids[:1])
    await db.commit()

    page = (await staff("viewer")).get(f"/automations/{automation_id}").text
    counts = page.split('id="step-wait-head"')[1].split("</dl>")[0]
    shown = dict(re.findall(r"<dt>(\w+)</dt><dd>(\d+)</dd>", counts))
    assert shown == {"Waiting": "2", "Done": "0", "Exited": "1"}, "one left during the wait, none finished it"
