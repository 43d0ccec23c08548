"""JSON API: /api/automations. Create and edit an automation, 422s naming the flow's paths, publish
(with the choice for contacts already in it), pause, resume, archive; enrol a contact by id or
email, remove it, and list enrolments a page at a time by status. Viewers read, editors change."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.automation_mail import email_template
from tests.support.automations import new_contacts
from webapp.core.schemas import LINK_MESSAGE

WAIT = {"id": "wait", "type": "wait", "duration": {"days": 3}}
TAG = {"id": "tag", "type": "tag", "tags": ["welcomed"]}
BODY = {"name": "Welcome", "trigger": {"kind": "tag_added", "tag": "New"}, "steps": [WAIT]}

HAS_VIP = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}


def errors(response) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


async def test_create_edit_publish_pause_resume_and_archive(db, api) -> None:
    editor, viewer = await api("editor"), await api("viewer")
    created = editor.post("/api/automations", json={**BODY, "reentry": "every_n_days", "reentry_days": 30})
    assert created.status_code == 201, created.text
    automation = created.json()
    assert (automation["status"], automation["trigger"], automation["reentry"]) == (
        "draft",
        {"kind": "tag_added", "tag": "new"},
        "every_n_days",
    )
    assert automation["current_version"] is None
    assert automation["draft"]["steps"] == [{**WAIT, "skip_if": None}]
    url = f"/api/automations/{automation['id']}"

    published = editor.post(url + "/publish", json={})
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "active"
    assert published.json()["current_version"]["number"] == 1
    assert published.json()["draft"] is None

    edited = editor.patch(url, json={"name": "Welcome series", "steps": [WAIT, TAG]})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["draft"]["number"]) == ("Welcome series", 2)
    assert len(edited.json()["current_version"]["steps"]) == 1  # live once published

    assert viewer.post(url + "/pause").status_code == 403
    assert editor.post(url + "/pause").json()["status"] == "paused"
    assert editor.post(url + "/pause").status_code == 200  # already paused: no error
    assert editor.post(url + "/resume").json()["status"] == "active"
    assert editor.post(url + "/publish", json={"move_existing": True}).json()["current_version"]["number"] == 2

    assert editor.delete(url).status_code == 204
    assert viewer.get(url).json()["status"] == "archived"
    assert editor.post(url + "/resume").status_code == 409
    assert editor.patch(url, json={"name": "x"}).status_code == 409
    assert [a["id"] for a in viewer.get("/api/automations").json()["items"]] == [automation["id"]]
    assert viewer.get("/api/automations/999").status_code == 404


async def test_problems_are_422s_naming_the_field_path(db, api) -> None:
    editor = await api("editor")
    steps = [
        WAIT,
        {"type": "condition", "rules": HAS_VIP, "yes": [{"type": "send_email"}]},
    ]
    response = editor.post("/api/automations", json={"name": "x", "trigger": {"kind": "nope"}, "steps": steps})
    assert response.status_code == 422, response.text
    assert errors(response) == {
        "trigger.kind": errors(response)["trigger.kind"],
        "steps.1.yes.0.template_id": "Template is required.",
    }
    assert "list_joined" in errors(response)["trigger.kind"]

    blank = [{"type": ""}, {"type": "send_email", "template_id": 1, "subject": "Hi {{ first_name "}]
    response = editor.post("/api/automations", json={"name": "x", "trigger": {"kind": ""}, "steps": blank})
    assert errors(response) == {  # as the form sends a menu left at its first line; a subject that cannot render
        "trigger.kind": "Choose what starts the automation.",
        "steps.0.type": "Choose what the step does.",
        "steps.1.subject": errors(response)["steps.1.subject"],
    }
    assert errors(response)["steps.1.subject"].startswith("Line 1: unexpected end of template")
    template_id = await email_template(db)
    await db.commit()
    fails = [WAIT, {"type": "send_email", "template_id": template_id, "subject": "Hi {{ 1 / 0 }}"}]
    response = editor.post("/api/automations", json={"name": "x", "trigger": {"kind": "manual"}, "steps": fails})
    assert errors(response) == {"steps.1.subject": "Line 1: The template failed: division by zero"}, response.text
    draft = editor.post("/api/automations", json={"name": "Ok", "trigger": {"kind": "manual"}}).json()
    changed = editor.patch(f"/api/automations/{draft['id']}", json={"steps": fails})
    assert changed.status_code == 422 and "steps.1.subject" in errors(changed)

    for link in ("javascript:alert(1)", "example.com/offer", "https://", "https://example.com/a b"):
        clicked = {"kind": "link_clicked", "url": link}
        response = editor.post("/api/automations", json={"name": "x", "trigger": clicked})
        assert errors(response) == {"trigger.url": LINK_MESSAGE}, link
    for link in ("", None, " HTTPS://example.com/offer?a=1 "):  # blank: any link
        clicked = {"kind": "link_clicked", "url": link}
        assert editor.post("/api/automations", json={"name": "x", "trigger": clicked}).status_code == 201, link

    draft = editor.post("/api/automations", json={"name": "Empty", "trigger": {"kind": "manual"}}).json()
    response = editor.post(f"/api/automations/{draft['id']}/publish", json={})
    assert (response.status_code, errors(response)) == (422, {"steps": "Add at least one step before publishing."})
    response = editor.post("/api/automations", json={"name": "x", "trigger": {"kind": "manual"}, "steps": "no"})
    assert response.status_code == 400  # Litestar's type check
    assert [error["field"] for error in response.json()["errors"]] == ["steps"]


async def test_enrol_by_id_or_email_remove_and_list_enrolments(db, api) -> None:
    editor, viewer = await api("editor"), await api("viewer")
    automation = editor.post("/api/automations", json=BODY).json()
    url = f"/api/automations/{automation['id']}"
    first, second, third = await new_contacts(db, 3)
    await db.commit()
    assert editor.post(url + "/enrolments", json={"contact_id": first}).status_code == 409  # still a draft
    editor.post(url + "/publish", json={})

    assert editor.post(url + "/enrolments", json={"contact_id": first}).json() == {"enrolled": 1}
    assert editor.post(url + "/enrolments", json={"email": "C2@example.com"}).json() == {"enrolled": 1}
    assert editor.post(url + "/enrolments", json={"contact_id": third}).json() == {"enrolled": 1}
    assert editor.post(url + "/enrolments", json={"contact_id": first}).json() == {"enrolled": 0}  # once
    assert viewer.post(url + "/enrolments", json={"contact_id": first}).status_code == 403
    missing = editor.post(url + "/enrolments", json={"email": "nobody@example.com"})
    assert (missing.status_code, missing.json()["detail"]) == (404, "No contact has this email address.")
    both = editor.post(url + "/enrolments", json={"contact_id": first, "email": "c1@example.com"})
    assert both.status_code == 422 and "contact_id" in errors(both)

    assert editor.delete(f"{url}/enrolments/{second}").status_code == 204
    assert editor.delete(f"{url}/enrolments/{second}").status_code == 404

    page = viewer.get(url + "/enrolments", params={"limit": 2}).json()
    assert [e["contact_id"] for e in page["items"]] == [third, second]
    rest = viewer.get(url + "/enrolments", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert ([e["contact_id"] for e in rest["items"]], rest["next_cursor"]) == ([first], None)
    active = viewer.get(url + "/enrolments", params={"status": "active"}).json()["items"]
    assert [(e["contact_id"], e["step_id"], e["run"]) for e in active] == [(third, "wait", 1), (first, "wait", 1)]
    removed = viewer.get(url + "/enrolments", params={"status": "removed"}).json()["items"]
    assert [(e["contact_id"], e["exit_reason"]) for e in removed] == [(second, "removed")]
    assert viewer.get(url + "/enrolments", params={"cursor": "nonsense"}).status_code == 400
    count = await db.scalar(text("SELECT count(*) FROM automation_enrolments"))
    assert count == 3
