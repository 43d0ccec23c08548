"""/api/templates against the real server: seed 000 shapes, syntax errors as 422 naming the field and
line, wrong types as 400, filters and pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from webapp.templates.models import EmailTemplate

SEED_EXAMPLE = {
    "name": "Weekly Newsletter",
    "subject": "Your Weekly Newsletter - {{first_name}}",
    "html_content": "<html><body><h1>Hello {{first_name}}!</h1></body></html>",
    "text_content": "Hello {{first_name}}!",
    "template_type": "marketing",
    "category": "newsletter",
    "tags": ["weekly", "newsletter"],
}
FIELDS = {
    "id",
    "name",
    "subject",
    "content_format",
    "markdown_content",
    "html_content",
    "text_content",
    "template_type",
    "category",
    "tags",
    "variables",
    "is_active",
    "created_by",
    "created_at",
    "updated_at",
}


async def test_create_returns_201_with_the_seed_shape(api):
    client = await api("editor")
    response = client.post("/api/templates", json=SEED_EXAMPLE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == FIELDS | {"unknown_variables", "sample_error"}
    assert {k: body[k] for k in SEED_EXAMPLE} == SEED_EXAMPLE
    assert (body["content_format"], body["markdown_content"]) == ("html", "")
    assert body["variables"] == ["first_name"] and body["unknown_variables"] == []
    assert body["is_active"] is True and body["created_by"] == "api:test editor"
    datetime.fromisoformat(body["created_at"])

    fetched = client.get(f"/api/templates/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == {k: v for k, v in body.items() if k not in ("unknown_variables", "sample_error")}


async def test_unknown_variables_are_returned_as_a_warning(api):
    client = await api("editor")
    body = client.post("/api/templates", json={"name": "x", "html_content": "{{ shoe_size }} {{ email }}"}).json()
    assert body["variables"] == ["email", "shoe_size"]
    assert body["unknown_variables"] == ["shoe_size"] and body["sample_error"] is None


async def test_a_template_that_fails_for_the_sample_contact_saves_and_says_why(api):
    client = await api("editor")
    html = "<p>Hi</p>\n{% for i in range(100000000) %}{% endfor %}"
    created = client.post("/api/templates", json={"name": "Loop", "html_content": html})
    assert created.status_code == 201, created.text
    assert created.json()["sample_error"].startswith("HTML: Line 2: ")
    fixed = client.put(f"/api/templates/{created.json()['id']}", json={"html_content": "<p>Hi</p>"})
    assert fixed.json()["sample_error"] is None


async def test_syntax_error_is_422_naming_the_field_and_line(api):
    client = await api("editor")
    response = client.post("/api/templates", json={**SEED_EXAMPLE, "html_content": "<p>\n<b>\n{{ first_name }</b>"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["html_content"]
    assert errors[0]["message"].startswith("Line 3: unexpected '}'")
    assert client.get("/api/templates").json()["items"] == []


async def test_rule_breaks_are_422_and_wrong_types_400(api):
    client = await api("editor")
    invalid = client.post("/api/templates", json={"name": "", "colour": "red"})
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {"name", "colour"}
    for body, field in (
        ({"name": 5}, "name"),
        ({"name": "x", "tags": "a"}, "tags"),
        ({"name": "x", "template_type": "promo"}, "template_type"),
        ({"name": "x", "is_active": "yes"}, "is_active"),
    ):
        response = client.post("/api/templates", json=body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["field"] == field
    assert (
        client.post("/api/templates", content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 400
    )
    assert client.get("/api/templates?limit=0").status_code == 400
    assert client.get("/api/templates?template_type=promo").status_code == 400
    assert client.get("/api/templates?is_active=maybe").status_code == 400


async def test_filters_and_cursor(api, db):
    await db.execute(
        insert(EmailTemplate),
        [
            {"name": "b news", "template_type": "marketing", "category": "Newsletter"},
            {"name": "A receipt", "template_type": "transactional", "category": "billing"},
            {"name": "c old news", "template_type": "marketing", "category": "newsletter", "is_active": False},
        ],
    )
    await db.commit()
    client = await api("viewer")
    names = lambda query: [t["name"] for t in client.get("/api/templates" + query).json()["items"]]  # noqa: E731
    assert names("") == ["A receipt", "b news", "c old news"]
    assert names("?template_type=marketing&category=newsletter&is_active=true&limit=50") == ["b news"]
    assert names("?category=NEWSLETTER") == ["b news", "c old news"]
    assert names("?is_active=false") == ["c old news"]
    assert names("?template_type=transactional") == ["A receipt"]

    first = client.get("/api/templates?limit=2").json()
    assert [t["name"] for t in first["items"]] == ["A receipt", "b news"]
    rest = client.get("/api/templates", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert ([t["name"] for t in rest["items"]], rest["next_cursor"]) == (["c old news"], None)


async def test_missing_templates_and_roles(api):
    viewer = await api("viewer")
    assert viewer.get("/api/templates/12345").status_code == 404
    assert viewer.get("/api/templates/99999999999999999999").status_code == 400
    assert viewer.post("/api/templates", json=SEED_EXAMPLE).status_code == 403
    assert viewer.put("/api/templates/12345", json={"name": "x"}).status_code == 403
    assert viewer.delete("/api/templates/12345").status_code == 403


async def test_change_and_delete_a_template(api, db):
    client = await api("editor")
    created = client.post("/api/templates", json=SEED_EXAMPLE).json()
    campaign = client.post("/api/campaigns", json={"name": "Uses it", "template_id": created["id"]}).json()

    changed = client.put(f"/api/templates/{created['id']}", json={"subject": "New {{ shoe_size }}", "tags": ["x"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["subject"], body["tags"], body["html_content"]) == (
        "New {{ shoe_size }}",
        ["x"],
        SEED_EXAMPLE["html_content"],
    )
    assert body["unknown_variables"] == ["shoe_size"] and body["variables"] == ["first_name", "shoe_size"]
    broken = client.put(f"/api/templates/{created['id']}", json={"html_content": "{% if %}"})
    assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "html_content"
    assert client.put("/api/templates/12345", json={"name": "x"}).status_code == 404

    assert client.delete(f"/api/templates/{created['id']}").status_code == 204
    assert client.get(f"/api/templates/{created['id']}").status_code == 404
    kept = client.get(f"/api/campaigns/{campaign['id']}").json()
    assert kept["template_id"] is None and kept["html_content"] == SEED_EXAMPLE["html_content"]
    assert client.delete(f"/api/templates/{created['id']}").status_code == 404
